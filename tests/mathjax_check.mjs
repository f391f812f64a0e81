// Renders every TeX string given on standard input (a JSON list) with MathJax's TeX input (all its
// packages but noundefined and noerrors, so that an unknown macro is an error, not red text) and prints a JSON list of
// {"index", "tex", "error"} for each that fails. Used by tests/test_mathjax.py.
import {mathjax} from 'mathjax-full/js/mathjax.js';
import {TeX} from 'mathjax-full/js/input/tex.js';
import {CHTML} from 'mathjax-full/js/output/chtml.js';
import {liteAdaptor} from 'mathjax-full/js/adaptors/liteAdaptor.js';
import {RegisterHTMLHandler} from 'mathjax-full/js/handlers/html.js';
import {AllPackages} from 'mathjax-full/js/input/tex/AllPackages.js';
import {readFileSync} from 'node:fs';

const adaptor = liteAdaptor();
RegisterHTMLHandler(adaptor);
const tex = new TeX({
  packages: AllPackages.filter((p) => !['bussproofs', 'noundefined', 'noerrors'].includes(p)),
  formatError: (jax, err) => { throw err; },
});
const doc = mathjax.document('', {InputJax: tex, OutputJax: new CHTML({fontURL: '.'})});
const items = JSON.parse(readFileSync(0, 'utf8'));
const errors = [];
items.forEach((source, index) => {
  try {
    doc.convert(source, {display: false});
  } catch (err) {
    errors.push({index, tex: source, error: String(err.message || err)});
  }
});
process.stdout.write(JSON.stringify({checked: items.length, errors}) + '\n');
