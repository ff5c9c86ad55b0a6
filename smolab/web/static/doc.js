// A reproduce document: Markdown rendered and sanitised, Mermaid blocks drawn, code highlighted;
// the judge's critiques as a table.
"use strict";
const target = document.getElementById("doc");
const text = document.getElementById("source").value;
if (target.dataset.name === "judge") {
  const verdict = JSON.parse(text);
  const rows = (verdict.critiques || []).map((c) => `<tr><td>${c.severity}</td><td>${c.file}</td><td>${c.function}</td><td>${c.problem}</td></tr>`).join("");
  target.innerHTML = DOMPurify.sanitize(`<p>score ${verdict.score} / 5</p><table><tr><th>severity</th><th>file</th><th>function</th><th>problem</th></tr>${rows}</table>`);
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
