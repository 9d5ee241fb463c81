// A small hand-drawn line chart on a canvas: a rolling window of points, one line per series,
// a y axis rounded to a readable maximum, and a legend with the latest values.

const PAD = { left: 40, right: 10, top: 22, bottom: 18 };

function niceMax(value) {
  if (value <= 1) return 1;
  const exp = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * exp >= value) return step * exp;
  return 10 * exp;
}

function label(value) {
  if (value >= 1000) return `${(value / 1000).toFixed(value >= 10_000 ? 0 : 1)}k`;
  return Number.isInteger(value) ? String(value) : value.toFixed(1);
}

export class LineChart {
  /** series: [{ name, color }]; capacity: points kept (one per stats tick). */
  constructor(canvas, { series, capacity = 120 }) {
    this.canvas = canvas;
    this.series = series;
    this.capacity = capacity;
    this.points = [];
    new ResizeObserver(() => this.draw()).observe(canvas);
  }

  /** values: one number (or null for "no data") per series. */
  push(values) {
    this.points.push(values);
    if (this.points.length > this.capacity) this.points.shift();
    this.draw();
  }

  draw() {
    const { canvas } = this;
    const ratio = window.devicePixelRatio || 1;
    const width = canvas.clientWidth;
    const height = canvas.clientHeight;
    if (width === 0 || height === 0) return;
    canvas.width = Math.round(width * ratio);
    canvas.height = Math.round(height * ratio);
    const ctx = canvas.getContext('2d');
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);

    const plotW = width - PAD.left - PAD.right;
    const plotH = height - PAD.top - PAD.bottom;
    let max = 0;
    for (const point of this.points) for (const v of point) if (v !== null && v > max) max = v;
    max = niceMax(max);

    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    ctx.strokeStyle = '#e3e7ef';
    ctx.fillStyle = '#6b7486';
    ctx.lineWidth = 1;
    for (let i = 0; i <= 4; i += 1) {
      const y = PAD.top + plotH - (plotH * i) / 4;
      ctx.beginPath();
      ctx.moveTo(PAD.left, Math.round(y) + 0.5);
      ctx.lineTo(width - PAD.right, Math.round(y) + 0.5);
      ctx.stroke();
      ctx.textAlign = 'right';
      ctx.fillText(label((max * i) / 4), PAD.left - 6, y);
    }
    ctx.textAlign = 'left';
    ctx.fillText(`-${this.capacity}s`, PAD.left, height - 8);
    ctx.textAlign = 'right';
    ctx.fillText('now', width - PAD.right, height - 8);

    const step = plotW / Math.max(1, this.capacity - 1);
    const offset = this.capacity - this.points.length;
    this.series.forEach((serie, index) => {
      ctx.strokeStyle = serie.color;
      ctx.lineWidth = 2;
      ctx.beginPath();
      let drawing = false;
      this.points.forEach((point, i) => {
        const v = point[index];
        if (v === null || v === undefined) {
          drawing = false;
          return;
        }
        const x = PAD.left + (offset + i) * step;
        const y = PAD.top + plotH - (plotH * v) / max;
        if (drawing) ctx.lineTo(x, y);
        else ctx.moveTo(x, y);
        drawing = true;
      });
      ctx.stroke();
      // A point with no neighbour draws no line: mark it, or a lone sample would be invisible.
      ctx.fillStyle = serie.color;
      this.points.forEach((point, i) => {
        const v = point[index];
        const prev = this.points[i - 1]?.[index];
        const next = this.points[i + 1]?.[index];
        if (v === null || v === undefined || (prev != null) || (next != null)) return;
        ctx.beginPath();
        ctx.arc(PAD.left + (offset + i) * step, PAD.top + plotH - (plotH * v) / max, 2.5, 0, Math.PI * 2);
        ctx.fill();
      });
    });

    // Legend with the latest values, right-aligned above the plot.
    let x = width - PAD.right;
    ctx.textAlign = 'right';
    const last = this.points.at(-1) ?? [];
    for (let index = this.series.length - 1; index >= 0; index -= 1) {
      const serie = this.series[index];
      const value = last[index];
      const text = `${serie.name} ${value === null || value === undefined ? '–' : label(value)}`;
      ctx.fillStyle = '#1d2433';
      ctx.fillText(text, x, 9);
      x -= ctx.measureText(text).width + 6;
      ctx.fillStyle = serie.color;
      ctx.fillRect(x - 10, 5, 10, 8);
      x -= 18;
    }
  }
}
