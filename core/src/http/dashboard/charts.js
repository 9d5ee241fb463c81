// Rolling time-series charts drawn by uPlot (served from node_modules: dashboard-routes.ts).
// One chart per figure: the last two minutes of points (one per queue:stats tick), a time axis
// in local HH:MM:SS, a y axis from 0 whose ticks are whole numbers for counted series (queue
// depth, connections), and a legend that shows the latest values unless the cursor points
// elsewhere. Charts follow their container's width.
import uPlot from '/dashboard/vendor/uplot.js';

const HEIGHT = 170;
/** Seconds shown: the x axis always spans this window, ending at the newest point. */
const WINDOW_S = 120;
/** Tick steps: whole numbers only for integer charts, the library's decimals otherwise. */
const INTEGER_INCRS = [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 1e6, 1e7];
const TIME_INCRS = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600];

const pad = (n) => String(n).padStart(2, '0');
function clockLabel(seconds) {
  const d = new Date(seconds * 1000);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function countLabel(value) {
  if (Math.abs(value) >= 10_000) return `${Math.round(value / 1000)}k`;
  return String(value);
}

export class TimeChart {
  /**
   * container: an empty element; series: [{ name, color }]; integer: whole-number ticks.
   */
  constructor(container, { series, integer = false }) {
    this.container = container;
    this.data = [[], ...series.map(() => [])];
    // The labels of the last drawn axes, for tests and for readers of the DOM (the axes are canvas).
    const record = (key, labels) => {
      container.dataset[key] = labels.join(' ');
      return labels;
    };
    const yAxis = {
      size: 44,
      space: 28,
      grid: { stroke: '#e3e7ef', width: 1 },
      ticks: { show: false },
      values: (u, splits) => record('yTicks', splits.map((v) => (integer ? countLabel(v) : tickLabel(v)))),
    };
    if (integer) yAxis.incrs = INTEGER_INCRS;
    const options = {
      width: this.width(),
      height: HEIGHT,
      // Room on the right for the newest time label, which is centred on the plot's edge.
      padding: [10, 28, 0, 0],
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      scales: {
        x: { time: true, range: (u, min, max) => (max === null ? [Date.now() / 1000 - WINDOW_S, Date.now() / 1000] : [max - WINDOW_S, max]) },
        y: {
          // From 0, with room above the highest point; at least 0..1 for counted series.
          range: (u, min, max) => {
            const top = Math.max(max ?? 0, 0);
            if (integer) return [0, Math.max(1, Math.ceil(top * 1.1))];
            return [0, top > 0 ? top * 1.15 : 1];
          },
        },
      },
      axes: [
        {
          space: 72,
          incrs: TIME_INCRS,
          grid: { show: false },
          ticks: { stroke: '#e3e7ef' },
          values: (u, splits) => record('xTicks', splits.map(clockLabel)),
        },
        yAxis,
      ],
      series: [
        { value: (u, v) => (v === null ? '–' : clockLabel(v)) },
        ...series.map((s) => ({
          label: s.name,
          stroke: s.color,
          width: 2,
          spanGaps: false,
          points: { size: 5, filter: isolatedPoints },
          value: (u, v) => (v === null || v === undefined ? '–' : integer ? String(v) : formatDecimal(v)),
        })),
      ],
    };
    this.plot = new uPlot(options, this.data, container);
    container.dataset.chart = 'uplot';
    new ResizeObserver(() => this.resize()).observe(container);
  }

  width() {
    return Math.max(120, Math.floor(this.container.clientWidth));
  }

  resize() {
    const width = this.width();
    if (width !== this.plot.width) this.plot.setSize({ width, height: HEIGHT });
  }

  /** values: one number (or null for "no data") per series, at now. */
  push(values) {
    const now = Date.now() / 1000;
    this.data[0].push(now);
    values.forEach((v, i) => this.data[i + 1].push(v ?? null));
    while (this.data[0][0] < now - WINDOW_S) for (const column of this.data) column.shift();
    this.plot.setData(this.data);
    // The legend shows the newest point unless the cursor is over the plot.
    if (this.plot.cursor.left === undefined || this.plot.cursor.left < 0) this.plot.setLegend({ idx: this.data[0].length - 1 });
  }
}

/**
 * Where the plot is dense, uPlot draws lines without point marks; a value between two gaps
 * (a latency seen in one tick only) has no line either, so it gets a mark of its own.
 */
function isolatedPoints(u, seriesIdx, show) {
  if (show) return null;
  const ys = u.data[seriesIdx];
  const marks = [];
  for (let i = 0; i < ys.length; i += 1) if (ys[i] != null && ys[i - 1] == null && ys[i + 1] == null) marks.push(i);
  return marks.length > 0 ? marks : null;
}

/** A tick of a decimal axis: as precise as the step (2.5, 0.25), without float noise. */
function tickLabel(value) {
  if (Math.abs(value) >= 10_000) return `${Number((value / 1000).toFixed(1))}k`;
  return String(Number(value.toFixed(2)));
}

/** A legend value: one decimal below 100. */
function formatDecimal(value) {
  if (Number.isInteger(value) || Math.abs(value) >= 100) return String(Math.round(value));
  return value.toFixed(1);
}
