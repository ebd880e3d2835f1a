import { parseLinkHeader, resolveLinks } from "./links";

const HEADER =
  '<?search=ann&page=1&size=20>; rel="first", <?search=ann&page=3&size=20>; rel="next", ' +
  '<?search=ann&page=9&size=20>; rel="last"';

test("a Link header's targets are read by relation", () => {
  expect(parseLinkHeader(HEADER)).toEqual({
    first: "?search=ann&page=1&size=20",
    next: "?search=ann&page=3&size=20",
    last: "?search=ann&page=9&size=20",
  });
  expect(parseLinkHeader(null)).toEqual({});
});

test("query-only links resolve against the requested URL, keeping its path", () => {
  const links = resolveLinks(HEADER, "https://console.example/api/patients?search=ann&page=2&size=20");
  expect(links.next?.href).toBe("https://console.example/api/patients?search=ann&page=3&size=20");
  expect(links.last?.pathname).toBe("/api/patients");
});
