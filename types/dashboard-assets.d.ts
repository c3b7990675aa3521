// Client scripts the dashboard embeds as files and serves (never imported as code).
declare module "*/htmx.min.js" {
  const path: string;
  export default path;
}
declare module "*/dashboard.js" {
  const path: string;
  export default path;
}
