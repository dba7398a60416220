// The dashboard's and the HTML report's behaviour: draws the data the page was given
// (the report) or polls it from the process (the dashboard). Every number arrives
// formatted by pipetel; this code lays it out. Text goes in with textContent only.
"use strict";

(function () {
  // How often the live page asks for new data.
  const POLL_MS = 1000;
  // A live page that has not heard from the process for this long says so.
  const STALE_MS = 5000;

  const embedded = JSON.parse(document.getElementById("pipetel-data").textContent || "null");
  let viz = null;
  let drawnGraph = null;
  let selected = null;
  let lastHeard = 0;
  let data = null;

  function element(tag, attributes, text) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes || {})) {
      node.setAttribute(name, value);
    }
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) {
      node.removeChild(node.firstChild);
    }
  }

  function localTime(ms) {
    return new Date(ms).toLocaleString();
  }

  function drawStatus() {
    const status = document.getElementById("status");
    if (!data) {
      return;
    }
    if (!data.live) {
      status.className = "status";
      status.textContent = "report written " + localTime(data.taken_at_ms) + " · pipetel " + data.version;
      return;
    }
    const stale = Date.now() - lastHeard > STALE_MS;
    status.className = "status " + (stale ? "stale" : "live");
    status.textContent = (stale ? "not updating since " : "live · updated ") +
      localTime(data.taken_at_ms) + " · pipetel " + data.version;
  }

  function drawOverview() {
    const progress = document.getElementById("progress");
    if (data.progress) {
      progress.hidden = false;
      document.getElementById("progress-fill").style.width =
        Math.min(100, data.progress.fraction * 100).toFixed(1) + "%";
      document.getElementById("progress-text").textContent =
        data.progress.percent + " · " + data.progress.eta + " · last to finish: " + data.progress.operator;
    } else {
      progress.hidden = true;
    }
    const bottleneck = document.getElementById("bottleneck");
    bottleneck.hidden = !data.bottleneck;
    bottleneck.textContent = data.bottleneck ? "Bottleneck " + data.bottleneck : "";
    const processes = document.getElementById("processes");
    clear(processes);
    document.getElementById("processes-panel").hidden = data.processes.length === 0;
    for (const process of data.processes) {
      const text = process.name + ": " + process.state + (process.note ? " (" + process.note + ")" : "");
      processes.appendChild(element("li", { class: process.state }, text));
    }
    const diagnoses = document.getElementById("diagnoses");
    clear(diagnoses);
    for (const diagnosis of data.diagnoses) {
      diagnoses.appendChild(element("li", { class: diagnosis.severity }, diagnosis.message));
    }
    const process = document.getElementById("process");
    const figures = [];
    if (data.process) figures.push("memory " + data.process.memory);
    if (data.heap) figures.push("heap " + data.heap);
    if (data.process) figures.push("CPU " + data.process.cpu);
    process.textContent = figures.join(" · ");
  }

  function drawGraph() {
    const graph = document.getElementById("graph");
    if (data.operators.length === 0) {
      clear(graph);
      graph.appendChild(element("p", { class: "muted" }, "No operator has run yet."));
      drawnGraph = null;
      return;
    }
    if (!viz || drawnGraph === data.graph) {
      return;
    }
    let svg;
    try {
      svg = viz.renderSVGElement(data.graph);
    } catch (error) {
      clear(graph);
      graph.appendChild(element("p", { class: "error" }, "Cannot draw the graph: " + error));
      return;
    }
    // Graphviz's tooltips repeat the node's id; the page's own titles say more.
    svg.querySelectorAll("title").forEach((title) => title.remove());
    svg.querySelectorAll("g.node").forEach((node) => {
      const index = Number(node.id.replace(/^op/, ""));
      node.addEventListener("click", () => select(index));
    });
    clear(graph);
    graph.appendChild(svg);
    drawnGraph = data.graph;
    markSelected();
  }

  function drawOperators() {
    const table = document.getElementById("operators");
    const head = table.tHead;
    clear(head);
    const titles = element("tr");
    titles.appendChild(element("th", {}, "OPERATOR"));
    titles.appendChild(element("th", {}, "STEP"));
    for (const title of data.header) {
      titles.appendChild(element("th", {}, title));
    }
    head.appendChild(titles);
    const body = table.tBodies[0];
    clear(body);
    data.operators.forEach((op, index) => {
      const row = element("tr", { "data-op": String(index) });
      row.appendChild(element("td", { "data-col": "name", title: op.node_type + " " + op.node_id }, op.name));
      row.appendChild(element("td", { "data-col": "step" }, op.step || ""));
      op.cells.forEach((cell, column) => {
        row.appendChild(element("td", { "data-col": data.header[column] }, cell));
      });
      row.addEventListener("click", () => select(index));
      body.appendChild(row);
    });
  }

  function drawEdges() {
    const body = document.getElementById("edges").tBodies[0];
    clear(body);
    for (const edge of data.edges) {
      const row = element("tr", { "data-from": String(edge.from), "data-to": String(edge.to) });
      row.appendChild(element("td", {}, data.operators[edge.from].name));
      row.appendChild(element("td", {}, data.operators[edge.to].name));
      row.appendChild(element("td", { "data-col": "rows" }, edge.rows));
      row.appendChild(element("td", {}, edge.bytes || "-"));
      row.appendChild(element("td", {}, edge.batches));
      row.appendChild(element("td", {}, edge.via || ""));
      body.appendChild(row);
    }
  }

  function drawRuns() {
    const note = document.getElementById("runs-note");
    note.textContent = data.runs.length === 0
      ? "No run yet (runs are those of #[derive(Pipeline)] types)."
      : (data.runs.length === 1 ? "The latest run" : "The latest " + data.runs.length + " runs, newest first") +
        "; the page keeps at most " +
        data.runs_kept + (data.runs_rolled_off > 0
          ? ", and " + data.runs_rolled_off + " older runs rolled off."
          : ".");
    const runs = document.getElementById("runs");
    clear(runs);
    for (const run of data.runs) {
      const block = element("div", { class: "run", "data-run": String(run.number) });
      const line = element("div");
      line.appendChild(element("span", { class: "badge " + run.status }, run.status));
      line.appendChild(document.createTextNode(
        " run " + run.number + " of " + run.pipeline + " · started " + localTime(run.started_ms) +
        " · " + run.time + " · " + run.rows + " rows" + (run.trace_id ? " · trace " + run.trace_id : "")));
      block.appendChild(line);
      if (run.error) {
        block.appendChild(element("div", { class: "error" }, run.error));
      }
      const steps = element("ul", { class: "steps" });
      for (const step of run.steps) {
        const item = element("li");
        item.appendChild(element("span", { class: "badge " + step.status }, step.status));
        item.appendChild(document.createTextNode(" step " + step.step + " · " + step.time + " · " + step.rows + " rows"));
        if (step.error) {
          item.appendChild(element("div", { class: "error" }, step.error));
        }
        steps.appendChild(item);
      }
      if (run.steps_left_out > 0) {
        steps.appendChild(element("li", { class: "muted" }, run.steps_left_out + " more step calls not kept"));
      }
      block.appendChild(steps);
      runs.appendChild(block);
    }
  }

  function drawSelected() {
    const op = selected === null ? null : data.operators[selected];
    document.getElementById("selected-none").hidden = op !== null && op !== undefined;
    document.getElementById("selected").hidden = !op;
    document.getElementById("selected-name").textContent = op ? op.name : "";
    if (!op) {
      return;
    }
    document.getElementById("selected-id").textContent =
      "node.type " + op.node_type + " · node.id " + op.node_id + (op.step ? " · step " + op.step : "");
    const waits = document.getElementById("selected-waits");
    clear(waits);
    ["busy", "starved", "blocked", "queued"].forEach((state, i) => {
      const part = element("span", { class: state, title: state + " " + (op.waits[i] * 100).toFixed(0) + "%" });
      part.style.width = (op.waits[i] * 100).toFixed(2) + "%";
      waits.appendChild(part);
    });
    const cells = document.getElementById("selected-cells").tBodies[0];
    clear(cells);
    data.header.forEach((title, i) => {
      const row = element("tr");
      row.appendChild(element("td", {}, title));
      row.appendChild(element("td", {}, op.cells[i]));
      cells.appendChild(row);
    });
    document.getElementById("selected-progress").textContent = op.progress
      ? "Progress: " + op.progress[1]
      : "";
    const details = document.getElementById("selected-details");
    clear(details);
    for (const line of op.details) {
      details.appendChild(element("li", {}, line));
    }
    const slowest = document.getElementById("selected-slowest");
    clear(slowest);
    for (const call of op.slowest) {
      const ended = new Date(call.ended_ms);
      const at = ended.toLocaleTimeString() + " (+" + String(ended.getMilliseconds()).padStart(3, "0") + " ms)";
      slowest.appendChild(element("li", {}, call.busy + ", ended " + at +
        (call.trace_id ? ", trace " + call.trace_id : "")));
    }
    const logs = document.getElementById("selected-logs");
    clear(logs);
    for (const line of op.log_lines) {
      const item = element("li", { class: line.level.toLowerCase() });
      item.appendChild(element("span", { class: "muted" },
        new Date(line.at_ms).toLocaleTimeString() + " " + line.level + " " + line.source + " "));
      item.appendChild(element("span", {}, line.text));
      logs.appendChild(item);
    }
    document.getElementById("selected-logs-none").hidden = op.log_lines.length > 0;
  }

  function markSelected() {
    document.querySelectorAll(".graph g.node").forEach((node) => {
      node.classList.toggle("selected", node.id === "op" + selected);
    });
    document.querySelectorAll("#operators tbody tr").forEach((row) => {
      row.classList.toggle("selected", row.getAttribute("data-op") === String(selected));
    });
  }

  function select(index) {
    selected = index;
    drawSelected();
    markSelected();
  }

  // The memory lane's colours, one per line, in the order pipetel sends the lines.
  const LANE_COLOURS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
    "#e377c2", "#17becf"];

  function drawMemoryLane() {
    const lane = data.memory_lane;
    document.getElementById("memory-panel").hidden = !lane;
    if (!lane) {
      return;
    }
    document.getElementById("memory-note").textContent = "top " + lane.top + ", last " +
      lane.span + " (" + lane.samples + " samples)" +
      (lane.left_out > 0 ? "; " + lane.left_out + " more operators hold less" : "");
    const svg = document.getElementById("memory-lane");
    const legend = document.getElementById("memory-legend");
    clear(svg);
    clear(legend);
    // x and y arrive as fractions of the lane; the view box is 1000 × 200, top down.
    lane.lines.forEach((line, index) => {
      const colour = LANE_COLOURS[index % LANE_COLOURS.length];
      const points = line.points
        .map(([x, y]) => (x * 1000).toFixed(1) + "," + (200 - y * 196).toFixed(1))
        .join(" ");
      const polyline = document.createElementNS("http://www.w3.org/2000/svg", "polyline");
      polyline.setAttribute("points", points);
      polyline.setAttribute("stroke", colour);
      polyline.setAttribute("data-name", line.name);
      svg.appendChild(polyline);
      const item = element("li");
      item.appendChild(element("span", { class: "swatch", style: "background:" + colour }));
      item.appendChild(element("span", {}, line.name + " " + line.now + " (most " +
        line.highest + ")"));
      legend.appendChild(item);
    });
  }

  function draw() {
    drawStatus();
    drawOverview();
    drawGraph();
    drawOperators();
    drawMemoryLane();
    drawEdges();
    drawRuns();
    drawSelected();
    markSelected();
    document.getElementById("report").textContent = data.report;
    document.body.setAttribute("data-taken-at", String(data.taken_at_ms));
  }

  function receive(view) {
    data = view;
    lastHeard = Date.now();
    draw();
  }

  function poll() {
    fetch("api/view.json", { cache: "no-store" })
      .then((response) => {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(receive)
      .catch(() => drawStatus())
      .finally(() => setTimeout(poll, POLL_MS));
  }

  Viz.instance().then((instance) => {
    viz = instance;
    if (data) {
      drawGraph();
    }
  });
  if (embedded) {
    receive(embedded);
  }
  if (!embedded || embedded.live) {
    poll();
  }
})();
