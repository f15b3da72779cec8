// A line diff by longest common subsequence: [{op: ' ' | '-' | '+', text}]. Policies are small (the API bounds them),
// but the table is bounded too, so a huge pair can't stall the page.
const MAX_CELLS = 4_000_000;

export function diffLines(before, after) {
  const a = before.split('\n');
  const b = after.split('\n');
  // Common head and tail need no table.
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const x = a.slice(head, a.length - tail);
  const y = b.slice(head, b.length - tail);
  const out = a.slice(0, head).map((text) => ({op: ' ', text}));
  if ((x.length + 1) * (y.length + 1) > MAX_CELLS) {
    x.forEach((text) => out.push({op: '-', text}));
    y.forEach((text) => out.push({op: '+', text}));
  } else {
    // lcs[i][j]: length of the LCS of x[i..] and y[j..]
    const lcs = Array.from({length: x.length + 1}, () => new Uint32Array(y.length + 1));
    for (let i = x.length - 1; i >= 0; i--) {
      for (let j = y.length - 1; j >= 0; j--) {
        lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
      }
    }
    let i = 0, j = 0;
    while (i < x.length && j < y.length) {
      if (x[i] === y[j]) { out.push({op: ' ', text: x[i]}); i++; j++; }
      else if (lcs[i + 1][j] >= lcs[i][j + 1]) out.push({op: '-', text: x[i++]});
      else out.push({op: '+', text: y[j++]});
    }
    while (i < x.length) out.push({op: '-', text: x[i++]});
    while (j < y.length) out.push({op: '+', text: y[j++]});
  }
  a.slice(a.length - tail).forEach((text) => out.push({op: ' ', text}));
  return out;
}
