import { fakeGateway, json, problem, tokenPair } from "../test/fakeGateway";
import { SESSION_ENDED_NOTICE, SessionStore } from "./session";

const BASE = "http://console.test";

function signedInStore(routes: Parameters<typeof fakeGateway>[0]) {
  const gateway = fakeGateway({
    "POST /auth/login": () => json(tokenPair("CLINICIAN", 1)),
    ...routes,
  });
  return { gateway, store: new SessionStore(gateway.fetch, BASE) };
}

test("signing in reads the user and role from the access token's claims", async () => {
  const { store, gateway } = signedInStore({});
  await expect(store.signIn("clinician@test.com", "password123")).resolves.toEqual({ ok: true });
  expect(store.getState()).toEqual({
    status: "signedIn",
    user: { id: "id-CLINICIAN", email: "clinician@test.com", role: "CLINICIAN" },
  });
  expect(gateway.seen[0]?.body).toEqual({ email: "clinician@test.com", password: "password123" });
});

test("the tokens are kept in memory only, never in web storage", async () => {
  const { store } = signedInStore({});
  await store.signIn("clinician@test.com", "password123");
  expect(localStorage.length).toBe(0);
  expect(sessionStorage.length).toBe(0);
  expect(document.cookie).toBe("");
});

test("a rate-limited or locked sign-in says how long to wait", async () => {
  const limited = new SessionStore(
    fakeGateway({ "POST /auth/login": () => problem(429, "Too many", { "Retry-After": "120" }) }).fetch,
    BASE,
  );
  await expect(limited.signIn("a@test.com", "x")).resolves.toEqual({
    ok: false,
    message: "Too many sign-in attempts. Try again in 2 minutes.",
    retryAfterSeconds: 120,
  });
  const locked = new SessionStore(
    fakeGateway({ "POST /auth/login": () => problem(423, "Locked", { "Retry-After": "30" }) }).fetch,
    BASE,
  );
  const result = await locked.signIn("a@test.com", "x");
  expect(result).toMatchObject({ ok: false, message: "This account is locked. Try again in 30 seconds." });
});

test("a refused sign-in shows the API's detail", async () => {
  const store = new SessionStore(
    fakeGateway({ "POST /auth/login": () => problem(401, "Invalid email or password") }).fetch,
    BASE,
  );
  await expect(store.signIn("a@test.com", "wrong")).resolves.toMatchObject({
    ok: false,
    message: "Invalid email or password",
  });
  expect(store.getState().status).toBe("signedOut");
});

test("an answer 401 renews the tokens once and repeats the request with the new one", async () => {
  const { store, gateway } = signedInStore({
    "POST /auth/session/refresh": () => json(tokenPair("CLINICIAN", 2)),
    "GET /api/patients": ({ authorization }) =>
      authorization?.endsWith("2") ? json([]) : problem(401, "expired"),
  });
  await store.signIn("clinician@test.com", "password123");
  const { response } = await store.api.GET("/api/patients", {});
  expect(response.status).toBe(200);
  const refreshes = gateway.seen.filter((seen) => seen.url.pathname === "/auth/session/refresh");
  expect(refreshes.map((seen) => seen.body)).toEqual([null]); // the cookie carries the refresh token
  expect(gateway.seen.filter((seen) => seen.url.pathname === "/api/patients")).toHaveLength(2);
});

test("a refused refresh ends the session with a message saying so", async () => {
  const { store } = signedInStore({
    "POST /auth/session/refresh": () => problem(401, "The refresh token is not valid"),
    "GET /api/patients": () => problem(401, "expired"),
  });
  await store.signIn("clinician@test.com", "password123");
  const { response } = await store.api.GET("/api/patients", {});
  expect(response.status).toBe(401);
  expect(store.getState()).toEqual({ status: "signedOut", notice: SESSION_ENDED_NOTICE });
});

test("signing out revokes the refresh token and forgets the session", async () => {
  const { store, gateway } = signedInStore({ "POST /auth/session/logout": () => new Response(null, { status: 204 }) });
  await store.signIn("clinician@test.com", "password123");
  await store.signOut();
  expect(store.getState()).toEqual({ status: "signedOut", notice: null });
  expect(gateway.seen.at(-1)).toMatchObject({ method: "POST", body: null });
  expect(gateway.seen.at(-1)?.url.pathname).toBe("/auth/session/logout");
  await store.api.GET("/api/patients", {});
  expect(gateway.seen.at(-1)?.authorization).toBeNull();
});

test("answers 401 at the same time share one refresh (a second would be a reuse)", async () => {
  const { store, gateway } = signedInStore({
    "POST /auth/session/refresh": () => json(tokenPair("CLINICIAN", 2)),
    "GET /api/patients": ({ authorization }) =>
      authorization?.endsWith("2") ? json([]) : problem(401, "expired"),
  });
  await store.signIn("clinician@test.com", "password123");
  const answers = await Promise.all([1, 2, 3].map(() => store.api.GET("/api/patients", {})));
  expect(answers.map(({ response }) => response.status)).toEqual([200, 200, 200]);
  expect(gateway.seen.filter((seen) => seen.url.pathname === "/auth/session/refresh")).toHaveLength(1);
});

test("the session renews itself before the access token expires", async () => {
  vi.useFakeTimers();
  try {
    const { store, gateway } = signedInStore({
      "POST /auth/session/refresh": () => json(tokenPair("CLINICIAN", 2)),
    });
    await store.signIn("clinician@test.com", "password123"); // expires in 900 s
    const refreshes = () => gateway.seen.filter((seen) => seen.url.pathname === "/auth/session/refresh");
    await vi.advanceTimersByTimeAsync(860_000);
    expect(refreshes()).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(15_000);
    expect(refreshes()).toHaveLength(1);
    expect(store.getState().status).toBe("signedIn");
  } finally {
    vi.useRealTimers();
  }
});

test("signing in asks for the session cookie, and a reload resumes the session from it", async () => {
  const { store, gateway } = signedInStore({ "POST /auth/session/refresh": () => json(tokenPair("CLINICIAN", 2)) });
  await store.signIn("clinician@test.com", "password123");
  expect(gateway.seen[0]?.url.pathname).toBe("/auth/login");
  const reloaded = new SessionStore(gateway.fetch, BASE);
  const resumed = reloaded.resume();
  expect(reloaded.getState()).toEqual({ status: "resuming" });
  await resumed;
  expect(reloaded.getState()).toMatchObject({ status: "signedIn", user: { email: "clinician@test.com" } });
});

test("a start-up without a live session cookie is signed out without a notice", async () => {
  const { store } = signedInStore({ "POST /auth/session/refresh": () => problem(401, "The refresh token is not valid") });
  await store.resume();
  expect(store.getState()).toEqual({ status: "signedOut", notice: null });
});
