// pg's own serializer of parameter values (no types shipped for this file).
declare module 'pg/lib/utils.js' {
  const utils: { prepareValue(value: unknown): unknown }
  export default utils
}
