# Native parts built by node-gyp (native/build-native.mjs runs it offline, with the
# machine's Node headers). pam_latchkey.so is a plain PAM module: libpam loads it, node never
# does, so it is built as a plain shared library named like every PAM module, not as a .node addon.
{
  'targets': [
    {
      'target_name': 'pam_latchkey',
      'type': 'shared_library',
      'product_name': 'pam_latchkey',
      'product_prefix': '',
      'product_extension': 'so',
      'sources': [
        'native/pam/pam-latchkey.c',
        'native/pam/options.c',
        'native/pam/ipc-codec.c',
        'native/pam/transport.c',
        'native/pam/handle-connection.c',
      ],
      'cflags': [
        '-std=gnu11', '-fvisibility=hidden', '-fstack-protector-strong', '-D_FORTIFY_SOURCE=2',
        '-Wall', '-Wextra', '-Wformat=2', '-Wshadow', '-Werror=implicit-function-declaration',
      ],
      'cflags!': ['-fno-exceptions'],
      'ldflags': [
        '-Wl,--version-script=<(module_root_dir)/native/pam/pam_latchkey.map',
        '-Wl,-z,relro', '-Wl,-z,now', '-Wl,-z,defs',
      ],
      'libraries': ['-lpam'],
    },
  ],
}
