/** Shell templates are imported as text (esbuild's text loader; test/text-loader.mjs under tsx). */
declare module "*.sh" {
  const text: string;
  export default text;
}
