// Worker entry point: the Hono app that wrangler and the workerd tests load.
import { createApp } from "./app.ts";

export default createApp();
