// wrangler's Text rule (wrangler.toml) imports *.js.txt files as strings.
declare module "*.js.txt" {
  const text: string;
  export default text;
}
