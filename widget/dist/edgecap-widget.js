"use strict";(()=>{var g=class extends Error{name="ResponseShapeError"};function y(n){return typeof n=="object"&&n!==null&&!Array.isArray(n)}function m(n,e){return typeof n=="number"&&Number.isFinite(n)?n:e}function x(n,e){if(!y(n))throw new g(`Expected an object at ${e}.`);return n}function W(n){if(!y(n)||n.schema!=="edgecap.attention/v1")return null;let e=x(n.grid,"attention.grid"),t=x(n.crop,"attention.crop"),r=x(n.image,"attention.image"),i=n.hypotheses;if(!Array.isArray(i))throw new g("Expected attention.hypotheses.");let a=m(e.rows,0)??0,o=m(e.cols,0)??0,s=i.find(l=>y(l)&&l.rank===0);return a<=0||o<=0||!y(s)||!Array.isArray(s.tokens)?null:{tokens:s.tokens.map((l,h)=>{let u=x(l,`attention.hypotheses[0].tokens[${h}]`),c=u.attention;if(!Array.isArray(c)||c.length!==a*o)throw new g(`Expected ${a*o} attention values for token ${h}, got ${Array.isArray(c)?c.length:"none"}.`);return{text:typeof u.text=="string"?u.text:"",attention:c.map(b=>m(b,0)??0),imageMass:m(u.image_mass,null)}}),grid:{rows:a,cols:o},crop:{left:m(t.left,0)??0,top:m(t.top,0)??0,width:m(t.width,0)??0,height:m(t.height,0)??0},imageSize:{width:m(r.width,0)??0,height:m(r.height,0)??0}}}function A(n){let e=x(n,"the response root"),t=e.captions;if(!Array.isArray(t)||t.length===0)throw new g("Expected a non-empty `captions` array in the response.");let r=x(t[0],"captions[0]"),i=typeof r.text=="string"?r.text:"",a=y(e.model)&&typeof e.model.id=="string"?e.model.id:"",o=W(e.attention);if(o!==null)return{text:i,modelId:a,...o};let d=(Array.isArray(r.tokens)?r.tokens:[]).map(l=>({text:y(l)&&typeof l.text=="string"?l.text:"",attention:null,imageMass:null}));return{text:i,modelId:a,tokens:d,grid:null,crop:null,imageSize:null}}var f=class extends Error{name="CaptionRequestError";status;constructor(e,t){super(e),this.status=t}};function F(n,e){let t=new FormData;return t.append("image",n,n instanceof File?n.name:"image"),t.append("attention","true"),e.model!==null&&t.append("model",e.model),e.beams!==null&&t.append("num_beams",String(e.beams)),e.maxTokens!==null&&t.append("max_new_tokens",String(e.maxTokens)),t}async function G(n){let e=n.headers.get("content-type")??"",t=`The caption service responded with HTTP ${n.status}${n.statusText?` ${n.statusText}`:""}.`;if(!e.includes("json"))return t;let r;try{r=await n.json()}catch{return t}if(typeof r!="object"||r===null)return t;let i=r,a=typeof i.title=="string"?i.title:`HTTP ${n.status}`,o=typeof i.detail=="string"?i.detail:"",s=typeof i.instance=="string"?` (${i.instance})`:"";return`${a}: ${o||t}${s}`}async function $(n,e,t,r){let i=new URL("/v1/captions",n),a;try{a=await fetch(i,{method:"POST",body:F(e,t),headers:{accept:"application/json"},signal:r})}catch(o){throw r.aborted?o:new f(`The request to ${i.origin} failed before a response arrived. Either the service is unreachable, or it does not allow this page's origin (${location.origin}). Add that origin to the service's ALLOWED_ORIGINS.`,null)}if(!a.ok)throw new f(await G(a),a.status);try{return A(await a.json())}catch(o){if(r.aborted)throw o;let s=o instanceof g?o.message:"the body is not JSON";throw new f(`The caption service at ${i.origin} returned an unexpected response: ${s}`,a.status)}}var S=`
:host {
  display: block;
  font: var(--edgecap-font, 14px/1.4 system-ui, sans-serif);
  color: var(--edgecap-color, #1d1d1f);
  max-width: var(--edgecap-max-width, 40rem);
}
:host([hidden]) { display: none; }
.container {
  display: grid;
  /* minmax(0, 1fr) lets a large image shrink to the host's width instead of widening the column. */
  grid-template-columns: minmax(0, 1fr);
  gap: 0.5rem;
  padding: var(--edgecap-padding, 0.75rem);
  background: var(--edgecap-background, #fff);
  border: var(--edgecap-border, 1px solid #d0d0d7);
  border-radius: var(--edgecap-radius, 8px);
}
.dropzone {
  display: block;
  padding: 0.75rem;
  text-align: center;
  border: 2px dashed var(--edgecap-dropzone-border-color, #9a9aa5);
  border-radius: var(--edgecap-radius, 8px);
  cursor: pointer;
}
.dropzone.dragging {
  border-color: var(--edgecap-accent, #2f5bea);
  background: var(--edgecap-dropzone-active-background, #eef2ff);
}
.dropzone input { display: block; margin: 0.5rem auto 0; }
figure { position: relative; margin: 0; justify-self: start; line-height: 0; }
figure[hidden] { display: none; }
img {
  display: block;
  max-width: 100%;
  height: auto;
  border-radius: var(--edgecap-image-radius, 4px);
}
canvas {
  position: absolute;
  pointer-events: none;
  opacity: var(--edgecap-overlay-opacity, 0.85);
  mix-blend-mode: var(--edgecap-overlay-blend-mode, normal);
}
canvas[hidden] { display: none; }
/* The legend keeps its space while hidden, so hovering a token never moves the tokens. */
.legend { display: flex; align-items: center; gap: 0.5rem; font-size: 0.85em; min-height: 1.4em; }
.legend[hidden] { visibility: hidden; }
.legend-bar { flex: 0 0 8rem; height: 0.6rem; border-radius: 2px; }
/* One line at most, for the same reason: a wrapping label would change the legend's height. */
.legend-label { min-width: 0; overflow: hidden; white-space: nowrap; text-overflow: ellipsis; }
.caption { margin: 0; font-size: var(--edgecap-caption-font-size, 1.1em); white-space: pre-wrap; }
.token {
  font: inherit;
  color: inherit;
  margin: 0;
  padding: 0 0.1em;
  border: 0;
  border-radius: 3px;
  background: var(--edgecap-token-background, transparent);
  cursor: pointer;
}
.token:hover, .token:focus-visible, .token.active {
  background: var(--edgecap-token-active-background, #ffe8a3);
  outline: 2px solid var(--edgecap-accent, #2f5bea);
  outline-offset: 0;
}
.status {
  margin: 0;
  min-height: 1.2em;
  color: var(--edgecap-muted-color, #5c5c66);
  font-size: 0.9em;
}
.error { margin: 0; color: var(--edgecap-error-color, #b00020); }
.error:empty { display: none; }
.visually-hidden {
  position: absolute;
  width: 1px;
  height: 1px;
  overflow: hidden;
  clip-path: inset(50%);
  white-space: nowrap;
}
`;function p(n,e,t){let r=document.createElement(n);return r.className=e,r.setAttribute("part",e),t!==void 0&&(r.textContent=t),r}function H(n,e){let t=document.createElement("style");t.textContent=S;let r=p("div","container"),i=p("label","dropzone"),a=p("input","file-input");a.type="file",a.accept="image/*",i.append(p("span","dropzone-text","Drop an image here or choose a file"),a);let o=p("figure","figure");o.hidden=!0;let s=p("img","image");s.alt="";let d=p("canvas","overlay");d.hidden=!0,d.setAttribute("aria-hidden","true"),o.append(s,d);let l=p("div","legend");l.hidden=!0;let h=p("span","legend-bar");h.style.background=e;let u=p("span","legend-label");l.append(h,u);let c=p("div","caption");c.setAttribute("role","toolbar"),c.setAttribute("aria-label","Caption tokens: arrow keys move between tokens");let b=p("p","status"),T=p("p","error");T.setAttribute("role","alert");let w=p("p","announcer");return w.classList.add("visually-hidden"),w.setAttribute("aria-live","polite"),r.append(i,o,l,c,b,T,w),n.append(t,r),{container:r,dropzone:i,fileInput:a,figure:o,image:s,overlay:d,legend:l,legendBar:h,legendLabel:u,caption:c,status:b,error:T,announcer:w}}var v=[[0,0,4],[87,16,110],[188,55,84],[249,142,9],[252,255,164]];function _(n){let t=Math.min(1,Math.max(0,Number.isFinite(n)?n:0))*(v.length-1),r=Math.min(Math.floor(t),v.length-2),i=t-r,a=v[r],o=v[r+1];return[0,1,2].map(s=>Math.round(a[s]+(o[s]-a[s])*i))}function I(){return`linear-gradient(to right, ${v.map(([e,t,r],i)=>`rgb(${e} ${t} ${r}) ${i*100/(v.length-1)}%`).join(", ")})`}function R(n,e){let t=e.displayed.width/e.imageSize.width,r=e.displayed.height/e.imageSize.height,i={left:e.crop.left*t,top:e.crop.top*r,width:e.crop.width*t,height:e.crop.height*r};return n.style.left=`${i.left}px`,n.style.top=`${i.top}px`,n.style.width=`${i.width}px`,n.style.height=`${i.height}px`,i}function z(n,e,t,r){let i=globalThis.devicePixelRatio||1;n.width=Math.max(1,Math.round(r.width*i)),n.height=Math.max(1,Math.round(r.height*i));let a=n.getContext("2d"),o=Math.min(...t),s=Math.max(...t);if(a===null)return{min:o,max:s};let d=s-o,l=new ImageData(e.cols,e.rows);for(let u=0;u<e.rows*e.cols;u++){let c=d>0?((t[u]??0)-o)/d:0,[b,T,w]=_(c);l.data.set([b,T,w,Math.round(255*(.15+.7*c))],u*4)}let h=document.createElement("canvas");return h.width=e.cols,h.height=e.rows,h.getContext("2d")?.putImageData(l,0,0),a.clearRect(0,0,n.width,n.height),a.imageSmoothingEnabled=!0,a.imageSmoothingQuality="high",a.drawImage(h,0,0,n.width,n.height),{min:o,max:s}}function O(n){let e=n[0];return e===void 0?[]:e.map((r,i)=>n.reduce((a,o)=>a+(o[i]??0),0)/n.length)}var k=class extends Error{name="HostImageError"};async function P(n,e){let t=e.getElementById(n);if(!(t instanceof HTMLImageElement))throw new k(`No <img> with id "${n}" on this page. Set the widget's \`for\` attribute to the id of an <img>.`);return t.currentSrc||t.src||await new Promise(r=>t.addEventListener("load",()=>r(),{once:!0})),t.currentSrc||t.src}async function B(n,e){let t=new URL(n,document.baseURI),r=t.origin!==location.origin,i;try{i=await fetch(t,{mode:"cors",credentials:"same-origin",signal:e})}catch(a){throw e.aborted?a:r?new k(`The image ${t.href} is on another origin (${t.origin}) that does not allow this page to read it (no CORS header), or it is unreachable. Serve it with Access-Control-Allow-Origin, or drop the file into the widget instead.`):new k(`The image ${t.href} could not be loaded: the network request failed.`)}if(!i.ok)throw new k(`The image ${t.href} could not be loaded: HTTP ${i.status}.`);return i.blob()}function N(n){let e=[];for(let t of n){let r=e[e.length-1];t.text===""&&r!==void 0?r.members.push(t):e.push({text:t.text,members:[t]})}return e.map(({text:t,members:r})=>{let i=r.flatMap(o=>o.attention===null?[]:[o.attention]),a=r.flatMap(o=>o.imageMass===null?[]:[o.imageMass]);return{text:t,attention:i.length===r.length?O(i):null,imageMass:a.length>0?a.reduce((o,s)=>o+s,0)/a.length:null}})}function D(n,e){n.replaceChildren();let t=[];return e.forEach((r,i)=>{let a=r.text.trimStart(),o=r.text.slice(0,r.text.length-a.length);o!==""&&a!==""&&i>0&&n.append(document.createTextNode(o));let s=document.createElement("button");s.type="button",s.className="token",s.setAttribute("part","token"),s.dataset.index=String(i),s.tabIndex=i===0?0:-1,s.textContent=a===""?r.text:a,n.append(s),t.push(s)}),t}function j(n,e,t){switch(n){case"ArrowRight":case"ArrowDown":return Math.min(t-1,e+1);case"ArrowLeft":case"ArrowUp":return Math.max(0,e-1);case"Home":return 0;case"End":return t-1;default:return null}}var C=class extends Error{name="AttributeError"};function U(n,e){let t=n.getAttribute(e);if(t===null||t.trim()==="")return null;let r=Number(t);if(!Number.isSafeInteger(r)||r<1)throw new C(`The ${e} attribute must be a positive integer, got "${t}".`);return r}function L(n){let e=n*100;return`${e.toFixed(e<1?2:e<10?1:0)}%`}var E=class n extends HTMLElement{static observedAttributes=["src","for"];static defaultEndpoint="";#e;#r=null;#o=null;#l=null;#d=[];#n=[];#i=null;#a=null;#u=!1;constructor(){super();let e=this.attachShadow({mode:"open"});this.#e=H(e,I()),this.#w()}get result(){return this.#l}get endpoint(){return this.getAttribute("endpoint")||n.defaultEndpoint||location.origin}connectedCallback(){this.#c()}disconnectedCallback(){this.#r?.abort()}attributeChangedCallback(e,t,r){t!==r&&this.#c()}captionImage(e){return this.#p(async()=>e)}#c(){this.#u||(this.#u=!0,queueMicrotask(()=>{this.#u=!1;let e=this.getAttribute("for"),t=this.getAttribute("src");!this.isConnected||!e&&!t||this.#p(async r=>{let i=e?await P(e,document):t;return B(i,r)})}))}#f(){return{model:this.getAttribute("model")||null,beams:U(this,"beams"),maxTokens:U(this,"max-tokens")}}async#p(e){this.#r?.abort();let t=new AbortController;this.#r=t;let{status:r,error:i}=this.#e;i.textContent="",r.textContent="Reading the image…",this.setAttribute("aria-busy","true");try{let a=this.#f(),o=await e(t.signal);this.#b(o),this.#m(null),r.textContent="Captioning…";let s=await $(this.endpoint,o,a,t.signal);this.#m(s),r.textContent=s.modelId?`Captioned by ${s.modelId}.`:"Captioned.",this.dispatchEvent(new CustomEvent("edgecap-result",{detail:s,bubbles:!0,composed:!0}))}catch(a){if(t.signal.aborted)return;this.#h(a)}finally{this.#r===t&&this.removeAttribute("aria-busy")}}#h(e){let t=e instanceof Error&&e.name!=="Error"?e.message:`The widget failed unexpectedly: ${String(e)}`;this.#e.status.textContent="",this.#e.error.textContent=t;let r=e instanceof f?e.status:null;this.dispatchEvent(new CustomEvent("edgecap-error",{detail:{message:t,status:r},bubbles:!0,composed:!0}))}#b(e){this.#o!==null&&URL.revokeObjectURL(this.#o),this.#o=URL.createObjectURL(e),this.#e.image.src=this.#o,this.#e.figure.hidden=!1}#m(e){this.#l=e,this.#d=e===null?[]:N(e.tokens),this.#n=D(this.#e.caption,this.#d),this.#i=null,this.#a=null,this.#e.image.alt=e?.text??"",this.#e.announcer.textContent=e===null?"":`Caption: ${e.text}`,this.#t()}#t(){let{overlay:e,legend:t,image:r}=this.#e,i=this.#i??this.#a;this.#n.forEach((u,c)=>{u.classList.toggle("active",c===i)});let a=this.#l,o=i===null?void 0:this.#d[i],s=r.complete&&r.naturalWidth>0;if(!a?.grid||!a.crop||!a.imageSize||!o?.attention||!s){e.hidden=!0;let u=a!==null&&a.grid===null&&i!==null;t.hidden=!u,u&&this.#g("This response has no attention maps.");return}let d=R(e,{imageSize:a.imageSize,crop:a.crop,displayed:{width:r.clientWidth,height:r.clientHeight}}),l=z(e,a.grid,o.attention,d);e.hidden=!1,t.hidden=!1;let h=o.imageMass===null?"":`; ${L(o.imageMass)} of its attention is on the image`;this.#g(`${L(l.min)} to ${L(l.max)} per patch for "${o.text.trim()}"${h}`)}#g(e){this.#e.legendLabel.textContent=e,this.#e.legendLabel.title=e}#s(e){return!(e instanceof HTMLButtonElement)||e.dataset.index===void 0?null:Number(e.dataset.index)}#w(){let{caption:e,fileInput:t,dropzone:r,container:i,image:a}=this.#e;e.addEventListener("pointerover",o=>{this.#i=this.#s(o.target),this.#t()}),e.addEventListener("pointerleave",()=>{this.#i=null,this.#t()}),e.addEventListener("focusin",o=>{let s=this.#s(o.target);this.#a=s,this.#n.forEach((d,l)=>{d.tabIndex=l===s?0:-1}),this.#t()}),e.addEventListener("focusout",o=>{this.#s(o.relatedTarget)===null&&(this.#a=null),this.#t()}),e.addEventListener("keydown",o=>{let s=this.#s(o.target);if(s===null)return;let d=j(o.key,s,this.#n.length);d!==null&&(o.preventDefault(),this.#n[d]?.focus())}),t.addEventListener("change",()=>{let o=t.files?.[0];t.value="",o!==void 0&&this.captionImage(o)}),i.addEventListener("dragover",o=>{o.preventDefault(),r.classList.add("dragging")}),i.addEventListener("dragleave",()=>r.classList.remove("dragging")),i.addEventListener("drop",o=>{o.preventDefault(),r.classList.remove("dragging");let s=o.dataTransfer?.files[0];if(s!==void 0){if(s.type!==""&&!s.type.startsWith("image/")){this.#h(new C(`The dropped file "${s.name}" is ${s.type}, not an image.`));return}this.captionImage(s)}}),a.addEventListener("load",()=>this.#t()),a.addEventListener("error",()=>{this.#e.figure.hidden=!0}),new ResizeObserver(()=>this.#t()).observe(a)}};var M=document.currentScript;M instanceof HTMLScriptElement&&M.src!==""&&(E.defaultEndpoint=new URL(M.src).origin);customElements.get("edgecap-caption")===void 0&&customElements.define("edgecap-caption",E);})();
