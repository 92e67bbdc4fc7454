/*
 * The service LatchkeyAgent (docs/windows.md §2): node.exe cannot talk to the Service Control
 * Manager, so this wrapper does. It starts the command after `--`, stops it on
 * SERVICE_CONTROL_STOP (its standard input closes, then TerminateProcess after 10 s), restarts it
 * after a crash with a back-off, and reports each state.
 *
 *   latchkey-service.exe [--log FILE] -- PROGRAM [ARGUMENT…]
 */
#include <windows.h>
#include <knownfolders.h>
#include <shlobj.h>
#include <stdarg.h>
#include <stdio.h>
#include <wchar.h>

#define EXIT_CONFIG_REFUSED 78 /* the agent's "config refused" (docs/cli.md): restarting changes nothing */
#define BACKOFF_FIRST_MS 2000
#define BACKOFF_MAX_MS 60000
#define STOP_GRACE_MS 10000
#define PATH_MAX_UNITS 1024

static WCHAR command_line[32768];
static WCHAR log_path[PATH_MAX_UNITS] = L"";
static SERVICE_STATUS_HANDLE status_handle;
static SERVICE_STATUS status = {.dwServiceType = SERVICE_WIN32_OWN_PROCESS};
static HANDLE stop_requested;

static void report(DWORD state, DWORD exit_code, DWORD specific, DWORD wait_hint) {
  static DWORD checkpoint = 1;
  status.dwCurrentState = state;
  status.dwWin32ExitCode = exit_code;
  status.dwServiceSpecificExitCode = specific;
  status.dwWaitHint = wait_hint;
  status.dwControlsAccepted = state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
  status.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : checkpoint++;
  SetServiceStatus(status_handle, &status);
}

static HANDLE open_log(void) {
  SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
  return CreateFileW(log_path, FILE_APPEND_DATA, FILE_SHARE_READ | FILE_SHARE_WRITE, &inherit, OPEN_ALWAYS,
                     FILE_ATTRIBUTE_NORMAL, NULL);
}

/* One line of the wrapper's own in the agent's log. */
static void say(const char *format, ...) {
  HANDLE log = open_log();
  if (log == INVALID_HANDLE_VALUE) return;
  char line[256];
  SYSTEMTIME now;
  GetSystemTime(&now);
  int n = snprintf(line, sizeof line, "%04u-%02u-%02uT%02u:%02u:%02uZ latchkey-service: ", now.wYear, now.wMonth, now.wDay,
                   now.wHour, now.wMinute, now.wSecond);
  va_list arguments;
  va_start(arguments, format);
  n += vsnprintf(line + n, sizeof line - n, format, arguments);
  va_end(arguments);
  n += snprintf(line + n, sizeof line - n, "\r\n");
  DWORD written;
  WriteFile(log, line, (DWORD)n, &written, NULL);
  CloseHandle(log);
}

struct child {
  HANDLE process;
  HANDLE input; /* our end of its standard input: closing it asks the agent to stop */
};

static int start_child(HANDLE job, struct child *child) {
  SECURITY_ATTRIBUTES inherit = {sizeof inherit, NULL, TRUE};
  HANDLE read_end = NULL, log = open_log();
  STARTUPINFOW startup = {.cb = sizeof startup, .dwFlags = STARTF_USESTDHANDLES};
  PROCESS_INFORMATION process = {0};
  int started = 0;
  child->process = child->input = NULL;
  if (log != INVALID_HANDLE_VALUE && CreatePipe(&read_end, &child->input, &inherit, 0) &&
      SetHandleInformation(child->input, HANDLE_FLAG_INHERIT, 0)) {
    startup.hStdInput = read_end;
    startup.hStdOutput = startup.hStdError = log;
    WCHAR line[32768];
    wcscpy(line, command_line); /* CreateProcessW may write to its command line */
    started = CreateProcessW(NULL, line, NULL, NULL, TRUE, CREATE_NO_WINDOW | CREATE_SUSPENDED, NULL, NULL, &startup, &process);
  }
  if (started) {
    if (!AssignProcessToJobObject(job, process.hProcess)) say("could not put the agent (pid %lu) in the job object (error %lu)", process.dwProcessId, GetLastError());
    ResumeThread(process.hThread);
    CloseHandle(process.hThread);
    child->process = process.hProcess;
    say("started the agent, pid %lu", process.dwProcessId);
  } else {
    say("could not start the agent (error %lu)", GetLastError());
    if (child->input != NULL) CloseHandle(child->input);
    child->input = NULL;
  }
  if (read_end != NULL) CloseHandle(read_end);
  if (log != INVALID_HANDLE_VALUE) CloseHandle(log);
  return started;
}

/* Closes its standard input, waits, then ends it; the service is STOP_PENDING meanwhile. */
static void stop_child(struct child *child) {
  report(SERVICE_STOP_PENDING, NO_ERROR, 0, STOP_GRACE_MS + 2000);
  CloseHandle(child->input);
  child->input = NULL;
  if (WaitForSingleObject(child->process, STOP_GRACE_MS) != WAIT_OBJECT_0) {
    say("the agent did not stop within %d s; ending it", STOP_GRACE_MS / 1000);
    TerminateProcess(child->process, 1);
    WaitForSingleObject(child->process, 5000);
  }
  CloseHandle(child->process);
  child->process = NULL;
}

static DWORD WINAPI on_control(DWORD control, DWORD type, void *data, void *context) {
  (void)type, (void)data, (void)context;
  if (control == SERVICE_CONTROL_STOP || control == SERVICE_CONTROL_SHUTDOWN) {
    SetEvent(stop_requested);
    return NO_ERROR;
  }
  return control == SERVICE_CONTROL_INTERROGATE ? NO_ERROR : ERROR_CALL_NOT_IMPLEMENTED;
}

static void WINAPI service_main(DWORD argc, LPWSTR *argv) {
  (void)argc, (void)argv;
  status_handle = RegisterServiceCtrlHandlerExW(L"LatchkeyAgent", on_control, NULL);
  if (status_handle == NULL) return;
  report(SERVICE_START_PENDING, NO_ERROR, 0, 5000);
  stop_requested = CreateEventW(NULL, TRUE, FALSE, NULL);
  HANDLE job = CreateJobObjectW(NULL, NULL);
  JOBOBJECT_EXTENDED_LIMIT_INFORMATION limits = {0};
  limits.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
  if (job != NULL) SetInformationJobObject(job, JobObjectExtendedLimitInformation, &limits, sizeof limits);
  report(SERVICE_RUNNING, NO_ERROR, 0, 0);

  DWORD backoff = BACKOFF_FIRST_MS, exit_code = NO_ERROR, specific = 0;
  for (;;) {
    struct child child;
    ULONGLONG started = GetTickCount64();
    if (start_child(job, &child)) {
      HANDLE both[2] = {stop_requested, child.process};
      if (WaitForMultipleObjects(2, both, FALSE, INFINITE) == WAIT_OBJECT_0) {
        stop_child(&child);
        break;
      }
      DWORD code = 1;
      GetExitCodeProcess(child.process, &code);
      CloseHandle(child.process);
      CloseHandle(child.input);
      if (code == 0) {
        say("the agent exited with code 0; the service stops");
        break;
      }
      if (code == EXIT_CONFIG_REFUSED) {
        say("the agent refused its configuration (exit %lu); the service stops: see the lines above", code);
        exit_code = ERROR_SERVICE_SPECIFIC_ERROR;
        specific = code;
        break;
      }
      if (GetTickCount64() - started >= BACKOFF_MAX_MS) backoff = BACKOFF_FIRST_MS;
      say("the agent exited with code %lu; starting it again in %lu s", code, backoff / 1000);
    }
    if (WaitForSingleObject(stop_requested, backoff) == WAIT_OBJECT_0) break;
    backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
  }
  if (job != NULL) CloseHandle(job);
  report(SERVICE_STOPPED, exit_code, specific, 0);
}

/* Where the token `--` ends in the raw command line: what follows is the child's, quoting kept. */
static const WCHAR *after_separator(const WCHAR *raw) {
  const WCHAR *p = raw;
  while (*p) {
    while (*p == L' ' || *p == L'\t') p++;
    const WCHAR *start = p;
    int quoted = 0;
    while (*p && (quoted || (*p != L' ' && *p != L'\t'))) {
      if (*p == L'\\' && p[1] == L'"') p++;
      else if (*p == L'"') quoted = !quoted;
      p++;
    }
    if (p - start == 2 && start[0] == L'-' && start[1] == L'-') {
      while (*p == L' ' || *p == L'\t') p++;
      return *p ? p : NULL;
    }
  }
  return NULL;
}

static int usage(const char *why) {
  fprintf(stderr, "latchkey-service: %s; usage: latchkey-service.exe [--log FILE] -- PROGRAM [ARGUMENT...]\n", why);
  return 2;
}

int main(void) {
  int argc = 0;
  LPWSTR *argv = CommandLineToArgvW(GetCommandLineW(), &argc);
  const WCHAR *child = after_separator(GetCommandLineW());
  if (argv == NULL || child == NULL) return usage("nothing to run after --");
  for (int i = 1; i < argc && wcscmp(argv[i], L"--") != 0; i++) {
    if (wcscmp(argv[i], L"--log") == 0 && i + 1 < argc && wcslen(argv[i + 1]) < PATH_MAX_UNITS) wcscpy(log_path, argv[++i]);
    else return usage("unknown option before --");
  }
  if (wcslen(child) >= sizeof command_line / sizeof command_line[0]) return usage("the command is too long");
  wcscpy(command_line, child);
  if (log_path[0] == L'\0') {
    /* the folder itself, not %ProgramData%: a service's environment need not name it */
    PWSTR data = NULL;
    if (SHGetKnownFolderPath(&FOLDERID_ProgramData, 0, NULL, &data) != S_OK || wcslen(data) > PATH_MAX_UNITS - 32) {
      CoTaskMemFree(data);
      return usage("the ProgramData folder is unknown; give --log");
    }
    swprintf(log_path, PATH_MAX_UNITS, L"%ls\\Latchkey", data);
    CoTaskMemFree(data);
    CreateDirectoryW(log_path, NULL);
    wcscat(log_path, L"\\agent.log");
  }
  SERVICE_TABLE_ENTRYW services[] = {{(LPWSTR)L"LatchkeyAgent", service_main}, {NULL, NULL}};
  if (!StartServiceCtrlDispatcherW(services)) {
    if (GetLastError() == ERROR_FAILED_SERVICE_CONTROLLER_CONNECT) {
      fprintf(stderr, "latchkey-service: run this as the LatchkeyAgent service (sc start LatchkeyAgent)\n");
      return 2;
    }
    fprintf(stderr, "latchkey-service: the service control manager refused it (error %lu)\n", GetLastError());
    return 1;
  }
  return 0;
}
