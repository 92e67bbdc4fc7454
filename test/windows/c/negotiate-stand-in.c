/*
 * A stand-in LSA package named "Negotiate" for a wine prefix (docs/windows.md §10). Wine 8 has no
 * Negotiate authentication package, so LsaLookupAuthenticationPackage("Negotiate") — which the
 * provider needs for its serialization — fails there. This DLL, listed under
 * HKLM\System\CurrentControlSet\Control\Lsa, only answers that lookup: it logs nobody on. LSA
 * itself is not under test; wine cannot prove it.
 */
#define UNICODE
#include <windows.h>
#include <ntsecapi.h>
#define SECURITY_WIN32
#include <sspi.h>
#include <ntsecpkg.h>

static CHAR package_name[] = "Negotiate";
static LSA_STRING name = {sizeof package_name - 1, sizeof package_name, package_name};
static WCHAR wide_name[] = L"Negotiate";

static NTSTATUS NTAPI initialize_package(ULONG id, PLSA_DISPATCH_TABLE dispatch, PLSA_STRING database, PLSA_STRING confidentiality, PLSA_STRING *out) {
  (void)id, (void)dispatch, (void)database, (void)confidentiality;
  *out = &name;
  return 0;
}
static NTSTATUS NTAPI initialize(ULONG_PTR id, PSECPKG_PARAMETERS parameters, PLSA_SECPKG_FUNCTION_TABLE table) {
  (void)id, (void)parameters, (void)table;
  return 0;
}
static NTSTATUS NTAPI get_info(PSecPkgInfoW info) {
  ZeroMemory(info, sizeof *info);
  info->wVersion = 1;
  info->wRPCID = 9;
  info->cbMaxToken = 1;
  info->Name = wide_name;
  info->Comment = wide_name;
  return 0;
}
/* wine passes NULL for the user functions pointer: nothing is written there */
static NTSTATUS NTAPI instance_init(ULONG version, PSECPKG_DLL_FUNCTIONS functions, PVOID *user) {
  (void)version, (void)functions, (void)user;
  return 0;
}

static SECPKG_FUNCTION_TABLE lsa_table = {.InitializePackage = initialize_package, .Initialize = initialize, .GetInfo = (SpGetInfoFn *)get_info};
static SECPKG_USER_FUNCTION_TABLE user_table = {.InstanceInit = instance_init};

__declspec(dllexport) NTSTATUS NTAPI SpLsaModeInitialize(ULONG version, PULONG package_version, PSECPKG_FUNCTION_TABLE *table, PULONG count) {
  (void)version;
  *package_version = SECPKG_INTERFACE_VERSION;
  *table = &lsa_table;
  *count = 1;
  return 0;
}

__declspec(dllexport) NTSTATUS NTAPI SpUserModeInitialize(ULONG version, PULONG package_version, PSECPKG_USER_FUNCTION_TABLE *table, PULONG count) {
  (void)version;
  *package_version = SECPKG_INTERFACE_VERSION;
  *table = &user_table;
  *count = 1;
  return 0;
}
