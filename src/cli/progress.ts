/** A progress line: rewritten in place on a terminal, printed every few seconds otherwise. */
import type { TrainProgress } from '../train/trainer.ts';

function fmtTime(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const m = Math.floor(s / 60), sec = Math.round(s % 60);
  return `${m}:${String(sec).padStart(2, '0')}`;
}

export function progressPrinter(label: string, stream: NodeJS.WriteStream = process.stderr): (p: TrainProgress) => void {
  let last = 0;
  return (p) => {
    const now = Date.now();
    const done = p.step === p.totalSteps;
    if (!done && now - last < (stream.isTTY ? 200 : 5000)) return;
    last = now;
    const line = `${label} [${p.imagesDone}/${p.totalImages} images] epoch ${p.epoch + 1} loss ${Number.isNaN(p.loss) ? '-' : p.loss.toFixed(4)} ` +
      `lr ${p.lr.toExponential(2)} ${p.imagesPerSecond.toFixed(0)} img/s ETA ${fmtTime(p.etaSeconds)}`;
    if (stream.isTTY) stream.write(`\r${line}\x1b[K${done ? '\n' : ''}`);
    else stream.write(line + '\n');
  };
}
