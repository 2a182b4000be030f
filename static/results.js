// How a finished task's outcome is shown: the result of each kind, or the error. DOM only.
import { formatNumber, gettext, interpolate, ngettext } from "./tasks_app/i18n.js";

export function renderResult(container, state) {
  container.replaceChildren();
  if (state.status === "failed") {
    container.append(paragraph(state.error || gettext("The task failed."), "error"));
    return;
  }
  if (state.status === "cancelled") {
    container.append(paragraph(gettext("Cancelled."), "hint"));
    return;
  }
  const result = state.result || {};
  const renderers = { document: documentResult, data_import: importResult, batch_report: reportResult };
  const renderer = renderers[state.kind];
  if (renderer) container.append(...renderer(result));
  else container.append(paragraph(interpolate(gettext("Finished: %(result)s"), { result: JSON.stringify(result) }), "hint"));
}

function documentResult(result) {
  const facts = paragraph(
    interpolate(gettext("%(words)s words · %(sentences)s sentences · %(paragraphs)s paragraphs · reading time %(time)s"), {
      words: formatNumber(result.words),
      sentences: formatNumber(result.sentences),
      paragraphs: formatNumber(result.paragraphs),
      time: result.reading_time,
    }),
  );
  const terms = table(
    [gettext("Most frequent term"), gettext("Count")],
    (result.top_terms || []).map((t) => [t.term, formatNumber(t.count)]),
  );
  return [facts, terms];
}

function importResult(result) {
  const summary = paragraph(
    interpolate(gettext("Imported %(imported)s of %(total)s rows into “%(name)s”; %(rejected)s rejected."), {
      imported: formatNumber(result.rows_imported),
      total: formatNumber(result.rows_total),
      name: result.dataset_name,
      rejected: formatNumber(result.rows_rejected),
    }),
  );
  if (!result.rejected?.length) return [summary];
  const heading = result.rejected.length < result.rows_rejected
    ? interpolate(gettext("Rejected line (first %(count)s)"), { count: result.rejected.length })
    : gettext("Rejected line");
  return [summary, table([heading, gettext("Reason")], result.rejected.map((r) => [r.line, r.reason]))];
}

function reportResult(result) {
  const list = document.createElement("ul");
  for (const report of result.reports || []) {
    const item = document.createElement("li");
    const rows = ngettext("%(group)s (%(rows)s row): ", "%(group)s (%(rows)s rows): ", report.rows);
    item.append(interpolate(rows, { group: report.group, rows: formatNumber(report.rows) }));
    for (const file of report.files) {
      const link = document.createElement("a");
      link.href = file.url;
      link.textContent = file.name;
      item.append(link, " ");
    }
    list.append(item);
  }
  const count = (result.reports || []).length;
  const heading = ngettext("%(count)s report over %(dataset)s, by %(column)s:", "%(count)s reports over %(dataset)s, by %(column)s:", count);
  return [paragraph(interpolate(heading, { count, dataset: result.dataset, column: result.group_by })), list];
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

