// The run page: the trajectory as it is written (server-sent events), the meter, approvals.
"use strict";
const meter = document.getElementById("meter");
const runId = meter.dataset.run;
const timeline = document.getElementById("timeline");
const totals = { prompt: 0, reply: 0, cost: 0, seconds: 0 };
const seen = new Set();
window.smolabArrivals = [];  // [event line, seconds from written to shown], read by the benchmark

function el(tag, cls, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

function folded(summary, parts) {
  const d = el("details");
  d.append(el("summary", "", summary));
  for (const [label, text] of parts) {
    if (!text) continue;
    d.append(el("div", "label", label));
    d.append(el("pre", "", text));
  }
  return d;
}

function messagesText(messages) {
  return (messages || []).map((m) => `[${m.role}]\n${m.content}`).join("\n\n");
}

function render(ev) {
  const li = el("li", `ev ${ev.type}`);
  switch (ev.type) {
    case "run_started":
      li.textContent = `started: ${ev.task || ""}`;
      break;
    case "context":
      li.append(folded("the system prompt and the task", [["messages", messagesText(ev.messages)]]));
      break;
    case "step_started":
      li.textContent = "asking the model";
      break;
    case "run_resumed":
      li.textContent = "resumed";
      break;
    case "run_ended":
      li.textContent = `ended: ${ev.status}${ev.reason ? " — " + ev.reason : ""}`;
      document.getElementById("status").textContent = ev.status;
      document.getElementById("status").className = `badge ${ev.status}`;
      break;
    case "stage_started":
      li.textContent = `▶ ${ev.stage} · ${ev.key}`;
      break;
    case "stage_finished":
      li.textContent = `✓ ${ev.stage} · ${ev.key} (${ev.seconds.toFixed(1)} s, ${ev.calls} calls)`;
      break;
    case "model_call":
      totals.prompt += ev.prompt_tokens || 0;
      totals.reply += ev.completion_tokens || 0;
      totals.cost += ev.cost || 0;
      totals.seconds += ev.seconds || 0;
      li.append(folded(`model call${ev.key ? " " + ev.key : ""}: ${ev.prompt_tokens} + ${ev.completion_tokens} tokens${ev.cost ? ", $" + ev.cost.toFixed(4) : ""}, ${(ev.seconds || 0).toFixed(1)} s`,
        [["prompt", messagesText(ev.messages)], ["reply", ev.reply]]));
      break;
    case "step":
      li.append(folded(`thought: ${ev.thought || ""}`, [["code", ev.code], ["output", ev.observation]]));
      break;
    case "tool_call":
      li.append(folded(`tool ${ev.tool}${ev.ok === false ? " (failed)" : ""}`, [["arguments", JSON.stringify(ev.arguments, null, 1)], ["result", typeof ev.result === "string" ? ev.result : JSON.stringify(ev.result, null, 1)]]));
      break;
    case "sandbox_call":
      li.textContent = `sandbox ${ev.what || ""}: ${ev.status} (${(ev.seconds || 0).toFixed(1)} s)`;
      break;
    case "approval":
      li.textContent = `approval: ${ev.action && ev.action.kind} ${ev.action && ev.action.detail} → ${ev.decision && (ev.decision.allowed ? "allowed" : "denied")} (${ev.decision && ev.decision.by})`;
      refreshState();
      break;
    case "guard":
      li.textContent = `guard ${ev.guard}: ${ev.action} — ${ev.reason}`;
      break;
    case "file_written": {
      const a = el("a", "", ev.path);
      a.href = `/runs/${runId}/files/${ev.path}`;
      if (ev.diff) {
        const d = el("details");
        d.append(el("summary", "", `rewrote ${ev.path}`));
        const pre = el("pre", "diff");
        for (const line of ev.diff.split("\n")) {
          const cls = line.startsWith("+") && !line.startsWith("+++") ? "add" : line.startsWith("-") && !line.startsWith("---") ? "del" : "";
          pre.append(el("span", cls, line + "\n"));
        }
        d.append(pre);
        li.append(d);
      } else {
        li.append("wrote ", a);
      }
      const files = document.getElementById("files");
      if (![...files.querySelectorAll("a")].some((x) => x.textContent === ev.path)) {
        const item = el("li");
        const link = el("a", "", ev.path);
        link.href = a.href;
        item.append(link);
        files.append(item);
      }
      break;
    }
    case "skill_used":
      li.textContent = `skill ${ev.name} v${ev.version}: ${ev.why || ""}`;
      break;
    case "evidence":
      li.textContent = "evidence recorded for the skills used";
      break;
    default:
      li.textContent = ev.type;
  }
  return li;
}

// An agent's events grouped by step: the model call, tools, sandbox and the step itself.
const groups = new Map();
function placeOf(ev) {
  if (!ev.step || ev.type === "run_resumed" || ev.type === "run_ended" || ev.type === "context") return timeline;
  if (!groups.has(ev.step)) {
    const li = el("li", "group");
    const d = el("details");
    d.open = true;
    d.append(el("summary", "step-title", `Step ${ev.step}`));
    const ol = el("ol", "timeline");
    d.append(ol);
    li.append(d);
    timeline.append(li);
    groups.set(ev.step, ol);
  }
  return groups.get(ev.step);
}

function updateMeter() {
  document.getElementById("tokens").textContent = (totals.prompt + totals.reply).toLocaleString();
  document.getElementById("cost").textContent = totals.cost ? `$${totals.cost.toFixed(4)}` : "-";
  document.getElementById("seconds").textContent = `${totals.seconds.toFixed(0)} s`;
}

function connect() {
  const source = new EventSource(`/api/runs/${runId}/events`);
  source.addEventListener("trajectory", (msg) => {
    if (seen.has(msg.lastEventId)) return;  // never twice, whatever the reconnects
    seen.add(msg.lastEventId);
    const ev = JSON.parse(msg.data);
    window.smolabArrivals.push([Number(msg.lastEventId), Date.now() / 1000 - ev.time, ev.time]);
    const li = render(ev);
    li.dataset.line = msg.lastEventId;
    placeOf(ev).append(li);
    updateMeter();
  });
  source.addEventListener("end", () => {
    source.close();
    refreshState();
  });
}

let asking = null;

async function refreshState() {
  const r = await fetch(`/api/runs/${runId}/state`);
  if (!r.ok) return;
  const state = await r.json();
  const box = document.getElementById("approval");
  if (state.approval) {
    asking = state.approval.id;
    document.getElementById("approval-what").textContent = `${state.approval.kind}: ${state.approval.detail} (tool ${state.approval.tool})`;
    box.hidden = false;
  } else {
    asking = null;
    box.hidden = true;
  }
  if (state.error) {
    const e = document.getElementById("run-error");
    e.textContent = state.error;
    e.hidden = false;
  }
  return state;
}

async function answer(kind, feedback) {
  if (!asking) return;
  const r = await fetch(`/api/runs/${runId}/approval`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ id: asking, answer: kind, feedback: feedback || "" }),
  });
  if (!r.ok) {
    const why = (await r.json()).why;
    document.getElementById("approval-what").textContent = why;
  }
  await refreshState();
}

document.querySelectorAll("#approval [data-answer]").forEach((b) => b.addEventListener("click", () => answer(b.dataset.answer)));
document.getElementById("approval-feedback").addEventListener("submit", (e) => {
  e.preventDefault();
  answer("feedback", e.target.feedback.value);
  e.target.reset();
});
document.querySelectorAll("input.allow").forEach((box) => box.addEventListener("change", async () => {
  await fetch(`/api/runs/${runId}/allow`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind: box.value, on: box.checked }),
  });
}));

connect();
refreshState();
// A question can arrive between events (the agent waits on it): look while the run is live.
setInterval(() => { if (document.getElementById("status").textContent === "running") refreshState(); }, 1000);
