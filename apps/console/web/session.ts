// The admin token lives in sessionStorage only: one tab, gone when the tab closes. It is sent as the
// x-core-api-key header and never put in a URL (the router uses the hash for views only) or a cookie.
const KEY = "ecodrix.console.adminToken";

export const session = {
  token(): string | null {
    return sessionStorage.getItem(KEY);
  },
  signIn(token: string): void {
    sessionStorage.setItem(KEY, token);
  },
  signOut(): void {
    sessionStorage.removeItem(KEY);
  },
};
