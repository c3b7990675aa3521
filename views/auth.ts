// Pages around signing in: first-start setup, login, the account page, a new project.
import { html, type Html } from "../src/dashboard/html.ts";
import { csrfInput as csrf, field, type FieldErrors } from "./components.ts";

export function setupPage(data: { csrfToken: string; setupToken: string; values: Record<string, string>; errors: FieldErrors; formError?: string | null }): Html {
  return html`<h1>Set up Bantico</h1>
  <p class="muted">Create the owner account and your first project. You can add teammates and more projects later.</p>
  ${data.formError ? html`<p class="notice error" role="alert">${data.formError}</p>` : null}
  <form method="post" action="/setup" novalidate>
    ${csrf(data.csrfToken)}
    <input type="hidden" name="token" value="${data.setupToken}">
    ${field({ label: "Your email", name: "email", type: "email", value: data.values.email, error: data.errors.email, autocomplete: "email", required: true })}
    ${field({ label: "Password", name: "password", type: "password", error: data.errors.password, autocomplete: "new-password", required: true, hint: "At least 8 characters." })}
    ${field({ label: "Project name", name: "projectName", value: data.values.projectName, error: data.errors.projectName, required: true, placeholder: "My SaaS", hint: "Usually the name of your product or website." })}
    <input type="hidden" name="timezone" value="${data.values.timezone ?? ""}" data-detect-timezone>
    <button type="submit" class="primary">Create account and project</button>
  </form>`;
}

/** /setup without the one-time token: where the link is. */
export function setupLinkNeededPage(): Html {
  return html`<h1>Set up Bantico</h1>
  <p class="notice" role="status">This server has no owner yet. Setting it up needs the one-time setup link.</p>
  <p>Bantico printed it in its log when it started, on a line beginning with <code>No owner yet: open</code>.
  To print it again, run this on the server:</p>
  <pre class="snippet"><code>bantico setup-link</code></pre>
  <p class="muted">In Docker: <code>docker exec bantico bantico setup-link</code>, or read <code>docker logs bantico</code>.</p>`;
}

export function loginPage(data: { csrfToken: string; email: string; next: string | null; error?: string | null; notice?: string | null }): Html {
  return html`<h1>Sign in</h1>
  ${data.notice ? html`<p class="notice" role="status">${data.notice}</p>` : null}
  ${data.error ? html`<p class="notice error" role="alert" id="login-error">${data.error}</p>` : null}
  <form method="post" action="/login" novalidate>
    ${csrf(data.csrfToken)}
    ${data.next ? html`<input type="hidden" name="next" value="${data.next}">` : null}
    ${field({ label: "Email", name: "email", type: "email", value: data.email, autocomplete: "username", required: true })}
    ${field({ label: "Password", name: "password", type: "password", autocomplete: "current-password", required: true })}
    <button type="submit" class="primary">Sign in</button>
  </form>`;
}

export function accountPage(data: { csrfToken: string; email: string; role: string; otherSessions: number; errors: FieldErrors }): Html {
  return html`<section class="card">
    <h2>Your account</h2>
    <p>${data.email} · role <strong>${data.role}</strong></p>
    <p class="muted">${data.otherSessions === 0 ? "You are signed in on this browser only." : `You are also signed in on ${data.otherSessions} other browser${data.otherSessions === 1 ? "" : "s"} or device${data.otherSessions === 1 ? "" : "s"}.`}</p>
    ${data.otherSessions > 0
      ? html`<form method="post" action="/account/sign-out-others">
          ${csrf(data.csrfToken)}<button type="submit">Sign out everywhere else</button>
        </form>`
      : null}
  </section>
  <section class="card">
    <h2>Change password</h2>
    <form method="post" action="/account/password" novalidate>
      ${csrf(data.csrfToken)}
      <input type="text" name="username" value="${data.email}" autocomplete="username" hidden>
      ${field({ label: "Current password", name: "currentPassword", type: "password", autocomplete: "current-password", error: data.errors.currentPassword, required: true })}
      ${field({ label: "New password", name: "newPassword", type: "password", autocomplete: "new-password", error: data.errors.newPassword, required: true, hint: "At least 8 characters. Your other sessions will be signed out." })}
      ${field({ label: "Repeat the new password", name: "confirmPassword", type: "password", autocomplete: "new-password", error: data.errors.confirmPassword, required: true })}
      <button type="submit" class="primary">Change password</button>
    </form>
  </section>`;
}

export function newProjectPage(data: { csrfToken: string; name: string; errors: FieldErrors }): Html {
  return html`<section class="card">
    <form method="post" action="/projects/new" novalidate>
      ${csrf(data.csrfToken)}
      ${field({ label: "Project name", name: "name", value: data.name, error: data.errors.name, required: true })}
      <button type="submit" class="primary">Create project</button>
    </form>
  </section>`;
}
