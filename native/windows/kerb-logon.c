/*
 * KERB_INTERACTIVE_UNLOCK_LOGON as LSA reads it from a credential provider: the structure, then
 * the domain, user and password, each UNICODE_STRING's Buffer holding the offset of its string
 * from the start of the block (the SDK's "packed" form).
 */
#include "kerb-logon.h"

#include <ntsecapi.h>
#include <string.h>

static NTSTATUS negotiate_package(ULONG *package) {
  HANDLE lsa = NULL;
  NTSTATUS status = LsaConnectUntrusted(&lsa);
  if (status != 0) return status;
  char name[] = "Negotiate";
  LSA_STRING lsa_name = {(USHORT)strlen(name), (USHORT)sizeof name, name};
  status = LsaLookupAuthenticationPackage(lsa, &lsa_name, package);
  LsaDeregisterLogonProcess(lsa);
  return status;
}

/* Copies units into the block at *offset and points the UNICODE_STRING at it (as an offset). */
static void place(BYTE *block, size_t *offset, UNICODE_STRING *string, const uint16_t *units, size_t count) {
  size_t bytes = count * sizeof(WCHAR);
  memcpy(block + *offset, units, bytes);
  string->Length = (USHORT)bytes;
  string->MaximumLength = (USHORT)bytes;
  string->Buffer = (PWSTR)(ULONG_PTR)*offset;
  *offset += bytes;
}

HRESULT lk_pack_kerb_logon(CREDENTIAL_PROVIDER_USAGE_SCENARIO scenario, const struct lk_logon_credential *credential,
                           const GUID *provider, CREDENTIAL_PROVIDER_CREDENTIAL_SERIALIZATION *serialization) {
  ULONG package = 0;
  if (negotiate_package(&package) != 0) return HRESULT_FROM_WIN32(ERROR_NO_SUCH_PACKAGE);
  size_t total = sizeof(KERB_INTERACTIVE_UNLOCK_LOGON) +
                 (credential->domain_units + credential->user_units + credential->password_units) * sizeof(WCHAR);
  BYTE *block = CoTaskMemAlloc(total);
  if (block == NULL) return E_OUTOFMEMORY;
  ZeroMemory(block, total);
  KERB_INTERACTIVE_UNLOCK_LOGON *logon = (KERB_INTERACTIVE_UNLOCK_LOGON *)block;
  logon->Logon.MessageType = scenario == CPUS_UNLOCK_WORKSTATION ? KerbWorkstationUnlockLogon : KerbInteractiveLogon;
  size_t offset = sizeof *logon;
  place(block, &offset, &logon->Logon.LogonDomainName, credential->domain, credential->domain_units);
  place(block, &offset, &logon->Logon.UserName, credential->user, credential->user_units);
  place(block, &offset, &logon->Logon.Password, credential->password, credential->password_units);
  serialization->ulAuthenticationPackage = package;
  serialization->clsidCredentialProvider = *provider;
  serialization->cbSerialization = (ULONG)total;
  serialization->rgbSerialization = block;
  return S_OK;
}
