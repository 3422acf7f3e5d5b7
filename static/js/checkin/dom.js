/* Small DOM helpers shared by the check-in page's modules. */

export function byId(id) {
  return document.getElementById(id);
}

export function element(tag, className, text) {
  const node = document.createElement(tag);
  node.className = className;
  if (text) {
    node.textContent = text;
  }
  return node;
}

// In-flow controls are made invisible, never removed, so the layout never shifts.
export function conceal(node, concealed) {
  node.classList.toggle("door-concealed", concealed);
  node.disabled = concealed;
  node.setAttribute("aria-hidden", String(concealed));
}

// Fills "{n} scans waiting" from {n: 3}; unknown names are left as they are.
export function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (match, key) => (key in values ? values[key] : match));
}
