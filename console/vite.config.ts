import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

// The gateway serves the built console at / (and the API on the same origin), so the
// development server forwards the API's paths to a running gateway (`make up`).
const gateway = process.env.PMS_CONSOLE_GATEWAY ?? "http://127.0.0.1:4004";

export default defineConfig({
  plugins: [react()],
  build: {
    // A data: URL would need its own Content-Security-Policy source: files only.
    assetsInlineLimit: 0,
    reportCompressedSize: true,
  },
  server: {
    proxy: Object.fromEntries(["/api", "/auth"].map((prefix) => [prefix, gateway])),
  },
  test: {
    environment: "jsdom",
    globals: true,
    setupFiles: ["./src/test/setup.ts"],
    css: false,
  },
});
