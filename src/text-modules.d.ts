/** Shell templates are imported as text (test/text-loader.mjs under tsx) or, in the bundle, by name (src/host/script-text.ts). */
declare module "*.sh" {
  const script: import("./host/script-text.ts").ScriptSource;
  export default script;
}
