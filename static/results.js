// How a finished task's outcome is shown: the result of each kind, or the error. DOM only.

export function renderResult(container, state) {
  container.replaceChildren();
  if (state.status === "failed") {
    container.append(paragraph(state.error || "The task failed.", "error"));
    return;
  }
  if (state.status === "cancelled") {
    container.append(paragraph("Cancelled.", "hint"));
    return;
  }
  const result = state.result || {};
  const renderers = { document: documentResult, data_import: importResult, batch_report: reportResult };
  const renderer = renderers[state.kind];
  if (renderer) container.append(...renderer(result));
  else container.append(paragraph(`Finished: ${JSON.stringify(result)}`, "hint"));
}

function documentResult(result) {
  const facts = paragraph(
    `${formatNumber(result.words)} words · ${formatNumber(result.sentences)} sentences · ` +
      `${formatNumber(result.paragraphs)} paragraphs · reading time ${result.reading_time}`,
  );
  const terms = table(["Most frequent term", "Count"], (result.top_terms || []).map((t) => [t.term, formatNumber(t.count)]));
  return [facts, terms];
}

function importResult(result) {
  const summary = paragraph(
    `Imported ${formatNumber(result.rows_imported)} of ${formatNumber(result.rows_total)} rows into “${result.dataset_name}”; ` +
      `${formatNumber(result.rows_rejected)} rejected.`,
  );
  if (!result.rejected?.length) return [summary];
  const shown = result.rejected.length < result.rows_rejected ? ` (first ${result.rejected.length})` : "";
  return [summary, table([`Rejected line${shown}`, "Reason"], result.rejected.map((r) => [r.line, r.reason]))];
}

function reportResult(result) {
  const list = document.createElement("ul");
  for (const report of result.reports || []) {
    const item = document.createElement("li");
    item.append(`${report.group} (${formatNumber(report.rows)} rows): `);
    for (const file of report.files) {
      const link = document.createElement("a");
      link.href = file.url;
      link.textContent = file.name;
      item.append(link, " ");
    }
    list.append(item);
  }
  return [paragraph(`${(result.reports || []).length} reports over ${result.dataset}, by ${result.group_by}:`), list];
}

function paragraph(text, className = "") {
  const element = document.createElement("p");
  element.textContent = text;
  if (className) element.className = className;
  return element;
}

function table(headings, rowsOfCells) {
  const element = document.createElement("table");
  const head = element.createTHead().insertRow();
  for (const heading of headings) head.append(Object.assign(document.createElement("th"), { textContent: heading }));
  const body = element.createTBody();
  for (const cells of rowsOfCells) {
    const row = body.insertRow();
    for (const cell of cells) row.insertCell().textContent = cell;
  }
  return element;
}

export function formatNumber(value) {
  return typeof value === "number" ? value.toLocaleString("en-US") : String(value ?? "");
}

