import { problemMessage, retryAfterSeconds, waitInWords } from "./problem";

test("retry-after is read as seconds or as an HTTP date", () => {
  const now = Date.parse("2026-01-01T00:00:00Z");
  const seconds = new Response(null, { headers: { "Retry-After": "42" } });
  const date = new Response(null, { headers: { "Retry-After": "Thu, 01 Jan 2026 00:01:30 GMT" } });
  expect(retryAfterSeconds(seconds, now)).toBe(42);
  expect(retryAfterSeconds(date, now)).toBe(90);
  expect(retryAfterSeconds(new Response(null), now)).toBeNull();
});

test("a problem's detail is the message; without one the status is", () => {
  const response = new Response(null, { status: 502, statusText: "Bad Gateway" });
  expect(problemMessage({ status: 400, detail: "Email is required" }, response)).toBe("Email is required");
  expect(problemMessage("<html>", response)).toBe("The platform answered 502 Bad Gateway.");
  expect(problemMessage(undefined, undefined)).toMatch(/could not be reached/);
});

test("waits are said in words", () => {
  expect(waitInWords(1)).toBe("1 second");
  expect(waitInWords(45)).toBe("45 seconds");
  expect(waitInWords(600)).toBe("10 minutes");
});
