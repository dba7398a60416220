// The diff page's behaviour: lays out the diff pipetel wrote into the page — the
// headline, the two runs' graphs side by side, the table. Every figure arrives
// formatted; text goes in with textContent only.
"use strict";

(function () {
  const data = JSON.parse(document.getElementById("pipetel-data").textContent);

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

  document.getElementById("summary").textContent = data.summary;
  document.getElementById("method").textContent = data.method;
  const headline = document.getElementById("headline");
  for (const line of data.headline) {
    headline.appendChild(element("li", { class: data.called ? "warning" : "notice" }, line));
  }

  const table = document.getElementById("operators");
  const titles = element("tr");
  for (const title of data.table[0]) {
    titles.appendChild(element("th", {}, title));
  }
  table.tHead.appendChild(titles);
  data.table.slice(1).forEach((cells, index) => {
    const row = element("tr", { class: data.verdicts[index] });
    for (const cell of cells) {
      row.appendChild(element("td", {}, cell));
    }
    table.tBodies[0].appendChild(row);
  });
  document.getElementById("text").textContent = data.text;

  Viz.instance().then((viz) => {
    for (const [id, graph] of [["before-graph", data.before_graph], ["after-graph", data.after_graph]]) {
      const holder = document.getElementById(id);
      try {
        const svg = viz.renderSVGElement(graph);
        svg.querySelectorAll("title").forEach((title) => title.remove());
        holder.appendChild(svg);
      } catch (error) {
        holder.appendChild(element("p", { class: "error" }, "Cannot draw the graph: " + error));
      }
    }
  });
})();
