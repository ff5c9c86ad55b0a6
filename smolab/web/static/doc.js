// A reproduce document: Markdown rendered and sanitised, Mermaid blocks drawn, code highlighted;
// the judge's critiques as a table.
"use strict";
const target = document.getElementById("doc");
const text = document.getElementById("source").value;
if (target.dataset.name === "judge") {
  // The model's words go in as text, never as markup.
  const verdict = JSON.parse(text);
  const score = document.createElement("p");
  score.textContent = `score ${verdict.score} / 5`;
  const table = document.createElement("table");
  const head = table.insertRow();
  for (const h of ["severity", "file", "function", "problem"]) {
    const th = document.createElement("th");
    th.textContent = h;
    head.append(th);
  }
  for (const c of verdict.critiques || []) {
    const row = table.insertRow();
    for (const v of [c.severity, c.file, c.function, c.problem]) row.insertCell().textContent = v;
  }
  target.append(score, table);
} else {
  target.innerHTML = DOMPurify.sanitize(marked.parse(text));
  const blocks = target.querySelectorAll("pre code.language-mermaid");
  blocks.forEach((code) => {
    const div = document.createElement("div");
    div.className = "mermaid";
    div.textContent = code.textContent;
    code.parentElement.replaceWith(div);
  });
  target.querySelectorAll("pre code").forEach((c) => hljs.highlightElement(c));
  mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });
  mermaid.run({ querySelector: ".mermaid" }).then(() => { document.body.dataset.diagrams = "drawn"; });
}
