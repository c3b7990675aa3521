// Files embedded in the executable by Bun's import attributes.
declare module "*.sql" {
  const text: string;
  export default text;
}
declare module "*.html" {
  const path: string;
  export default path;
}
declare module "*.css" {
  const path: string;
  export default path;
}
declare module "*.csv" {
  const path: string;
  export default path;
}
