# Native parts built by node-gyp (native/build-native.mjs runs it offline, with the
# machine's Node headers). pam_latchkey.so is a plain PAM module: libpam loads it, node never
# does, so it is built as a plain shared library named like every PAM module, not as a .node addon.
#
# The C sources are listed once, in native/pam/sources.gypi, as two static libraries the module
# links: latchkey_codec (the IPC frame codec: portable C, no sockets, so a Windows credential
# provider built with mingw-w64 can link it too) and latchkey_pam_client (options, the Unix-socket
# transport, the connection a PAM handle keeps). The C tests, the fuzzers and the benchmarks build
# the same libraries from the same list (native/c-library.mjs).
{
  'includes': ['native/pam/sources.gypi'],
  'target_defaults': {
    'cflags': [
      '-std=gnu11', '-fPIC', '-fvisibility=hidden', '-fstack-protector-strong', '-D_FORTIFY_SOURCE=2',
      '-Wall', '-Wextra', '-Wformat=2', '-Wshadow', '-Werror=implicit-function-declaration',
    ],
    'cflags!': ['-fno-exceptions'],
  },
  'targets': [
    {
      'target_name': 'latchkey_codec',
      'type': 'static_library',
      'sources': ['<@(latchkey_codec_sources)'],
    },
    {
      'target_name': 'latchkey_pam_client',
      'type': 'static_library',
      'sources': ['<@(latchkey_pam_client_sources)'],
    },
    {
      'target_name': 'pam_latchkey',
      'type': 'shared_library',
      'product_name': 'pam_latchkey',
      'product_prefix': '',
      'product_extension': 'so',
      'sources': ['<@(latchkey_module_sources)'],
      'dependencies': ['latchkey_pam_client', 'latchkey_codec'],
      'ldflags': [
        '-Wl,--version-script=<(module_root_dir)/native/pam/pam_latchkey.map',
        '-Wl,-z,relro', '-Wl,-z,now', '-Wl,-z,defs',
      ],
      'libraries': ['-lpam'],
    },
  ],
}
