/* The serialization LogonUI hands to LSA (docs/windows.md §4.4): KERB_INTERACTIVE_UNLOCK_LOGON for Negotiate. */
#ifndef LATCHKEY_KERB_LOGON_H
#define LATCHKEY_KERB_LOGON_H

#include <windows.h>

#include "credentialprovider.h"
#include "logon-credential.h"

/*
 * Packs the credential into *serialization (its buffer from CoTaskMemAlloc: LogonUI frees it).
 * S_OK, or an error with nothing allocated (the Negotiate package could not be found, no memory).
 */
HRESULT lk_pack_kerb_logon(CREDENTIAL_PROVIDER_USAGE_SCENARIO scenario, const struct lk_logon_credential *credential,
                           const GUID *provider, CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *serialization);

#endif
