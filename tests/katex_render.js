// Renders every formula given on stdin (a JSON list of {tex, display}) with KaTeX, throwOnError on;
// prints a JSON list of the errors (empty when every formula rendered).
const katex = require("katex");
let input = "";
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const errors = [];
  for (const item of JSON.parse(input)) {
    try {
      katex.renderToString(item.tex, { displayMode: item.display, throwOnError: true });
    } catch (error) {
      errors.push({ tex: item.tex.slice(0, 200), error: String(error.message) });
    }
  }
  process.stdout.write(JSON.stringify(errors));
});
