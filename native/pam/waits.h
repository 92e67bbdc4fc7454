/*
 * How long a lock-screen shim waits for the agent and for the phone: the defaults and limits of
 * PAM's timeout=, online_wait= and ble_wait= (docs/pam.md "Options") and of the credential
 * provider's TimeoutMs, OnlineWaitMs and BleWaitMs (docs/windows.md §4.2). One rule, both shims.
 */
#ifndef LATCHKEY_WAITS_H
#define LATCHKEY_WAITS_H

#define LK_DEFAULT_TIMEOUT_MS 2000u
#define LK_TIMEOUT_MIN_MS 1u
#define LK_TIMEOUT_MAX_MS 30000u
#define LK_DEFAULT_ONLINE_WAIT_MS 20000u
#define LK_ONLINE_WAIT_MAX_MS 120000u
#define LK_DEFAULT_BLE_WAIT_MS 5000u
#define LK_BLE_WAIT_MAX_MS 60000u
/* push=auto without an explicit online wait: the phone gets this long in all, Bluetooth and
 * online together, before the PIN prompt appears (PRODUCT.md R3's five seconds). */
#define LK_AUTO_PHONE_BUDGET_MS 5000u

#endif
