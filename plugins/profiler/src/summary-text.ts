import type { ProfileStage } from './profile-event.js';
import type { WindowSummary } from './profile-window.js';

const STAGE_NAMES: Readonly<Record<ProfileStage['stage'], string>> = {
  queue: '대기열 (같은 방의 앞선 메시지)',
  concurrency: '처리 슬롯 대기 (동시 처리 한도)',
  core: '코어 처리 (방 승인 등)',
  onReceive: '수신 관찰 플러그인',
  onMessage: '플러그인',
  beforeReply: '답장 변환',
  hold: '답장 순서·간격 대기',
  send: '전송',
  other: '기타',
};

/** Commands listed in the reply at most. */
const MAX_COMMANDS = 8;

export function stageName(stage: ProfileStage): string {
  const name = STAGE_NAMES[stage.stage];
  return stage.plugin === null ? name : `${name} ${stage.plugin}`;
}

/** The `# profile` answer: a Korean summary of a bot's recent messages. */
export function summaryText(botName: string, summary: WindowSummary | null, slowMessageMs: number): string {
  if (summary === null) return `📈 ${botName}: 아직 기록된 메시지가 없습니다.`;
  const { total } = summary;
  const lines = [
    `📈 처리 시간 프로파일 (${botName}, 최근 ${total.count}개 메시지)`,
    `전체: 평균 ${ms(total.meanMs)} · 중앙값 ${ms(total.p50Ms)} · p95 ${ms(total.p95Ms)} · 최대 ${ms(total.maxMs)}`,
    `느린 메시지 (${slowMessageMs}ms 이상): ${summary.slow}개`,
    '',
    '⏱ 단계별 평균',
    ...summary.stages.map(({ stage, meanMs }) => `• ${stageName(stage)}: ${ms(meanMs)}`),
    '',
    '💬 명령어별 (평균 / p95, 횟수)',
    ...summary.commands
      .slice(0, MAX_COMMANDS)
      .map(({ command, total: d }) => `• ${command ?? '일반 메시지'}: ${ms(d.meanMs)} / ${ms(d.p95Ms)} (${d.count}회)`),
  ];
  return lines.join('\n');
}

function ms(value: number): string {
  return value >= 100 ? `${Math.round(value)}ms` : `${value.toFixed(1)}ms`;
}
