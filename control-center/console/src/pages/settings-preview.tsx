/**
 * What a user will see on the phone with these settings: the phone's own sentences
 * (phone/core/sentences.ts) around a sample PIN of the chosen shape (protocol/offline-pin.ts).
 */
import { noOfflinePin, pinsLeft, renderOfflinePinScreen } from '../../../../phone/core/sentences.js';
import { deriveOfflinePin, formatPinForDisplay } from '../../../../protocol/offline-pin.js';
import { isLow, type Policy } from '../../../../protocol/policy-settings.js';

const SAMPLE_SEED = new Uint8Array(32).fill(7);

export function PhonePreview({ settings }: { settings: Policy | null }) {
  let lines: string[];
  let warning: string | null = null;
  if (settings === null) {
    lines = ['The preview appears once the settings are valid.'];
  } else if (!settings.offlineMode) {
    lines = [noOfflinePin('offline-mode-off')];
  } else {
    const pin = formatPinForDisplay(
      deriveOfflinePin(SAMPLE_SEED, 0, { charset: settings.pinCharset, length: settings.pinLength }),
      settings.pinCharset,
    );
    const remaining = settings.pinCount - 1;
    lines = renderOfflinePinScreen({
      screen: 'offline-pin',
      via: 'long-press',
      ok: true,
      workstationId: 'ws_PREVIEW',
      workstationName: 'ws-042',
      user: 'alice',
      pin,
      counter: 0,
      position: 1,
      count: settings.pinCount,
      remaining,
      low: isLow(remaining, settings.pinCount, settings),
      displaySeconds: settings.pinDisplaySeconds,
      hideAt: 0,
    });
    const threshold = Math.floor((settings.lowPinWarnPercent * settings.pinCount) / 100);
    warning =
      threshold > 0
        ? `From ${threshold} left: “${pinsLeft(threshold, true)}”`
        : 'No low-PIN warning before the last PIN.';
  }
  return (
    <aside class="preview" aria-labelledby="preview-title">
      <h3 id="preview-title">What the user will see</h3>
      <div class="phone">
        {lines.map((line, i) => (
          <p key={i} class={/^ {2}\S/.test(line) ? 'pin' : undefined}>
            {line.trim()}
          </p>
        ))}
      </div>
      {settings?.offlineMode && (
        <ul class="preview-notes">
          <li>{warning}</li>
          <li>PINs stop working {settings.offlineAccessDays} days after the online sign-in that delivered them.</li>
        </ul>
      )}
    </aside>
  );
}
