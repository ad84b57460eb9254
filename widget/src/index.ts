// Entry point of widget/dist/edgecap-widget.js: registers <edgecap-caption>. The bundle is a
// classic script (IIFE) because document.currentScript, which gives the default endpoint, is null
// in modules.
import { EdgecapCaptionElement } from "./element.ts";

const script = document.currentScript;
if (script instanceof HTMLScriptElement && script.src !== "") {
  EdgecapCaptionElement.defaultEndpoint = new URL(script.src).origin;
}

if (customElements.get("edgecap-caption") === undefined) {
  customElements.define("edgecap-caption", EdgecapCaptionElement);
}
