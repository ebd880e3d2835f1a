import { formatMoney, toMinorUnits } from "./money";

test("amounts are shown in the currency's format", () => {
  expect(formatMoney(12550, "EUR", "en-GB")).toBe("€125.50");
  expect(formatMoney(12550, "USD", "en-US")).toBe("$125.50");
  expect(formatMoney(1200, "JPY", "en-US")).toBe("¥1,200");
});

test("typed amounts become minor units within the currency's decimals", () => {
  expect(toMinorUnits("125.5", "EUR")).toBe(12550);
  expect(toMinorUnits("125,50", "EUR")).toBe(12550);
  expect(toMinorUnits("1200", "JPY")).toBe(1200);
  expect(toMinorUnits("12.5", "JPY")).toBeNull();
  expect(toMinorUnits("0", "EUR")).toBeNull();
  expect(toMinorUnits("ten", "EUR")).toBeNull();
});
