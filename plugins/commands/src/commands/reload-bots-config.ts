import { text } from '@botbridge/sdk';
import { defineBuiltin } from '../builtin-command.js';
import { defineCommand, type CommandDefinition } from '../command-registry.js';

/** `# reload bots-config` (admin): re-reads device and room approvals from the store now. */
export function createReloadBotsConfigCommand(): CommandDefinition {
  return defineCommand({
    name: 'reload_bots_config',
    trigger: 'reload bots-config',
    description: '봇 승인 설정 다시 읽기',
    adminOnly: true,
    async run({ ctx, bridge }) {
      try {
        const { devices, changed } = await bridge.reloadApprovals();
        return text(`✅ 봇 설정 갱신 완료!\n• 총 ${devices}개 봇 확인\n• ${changed}개 봇 상태 변경됨`);
      } catch (error) {
        ctx.log.error({ err: error }, 'reloading approvals failed');
        return text(`❌ 봇 설정 갱신 실패: ${error instanceof Error ? error.message : String(error)}`);
      }
    },
  });
}

export const reloadBotsConfigBuiltin = defineBuiltin({ name: 'reload_bots_config', options: undefined, create: createReloadBotsConfigCommand });
