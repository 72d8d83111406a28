/*
 * Test support: loads every program of a CO-RE object into the running
 * kernel with libbpf's btf_custom_path set, as an agent on a kernel without
 * /sys/kernel/btf/vmlinux would, then unloads it. bpftool 7.1 has no option
 * for this. Usage: btf-custom-load OBJECT BTF. Exit 0 when everything loaded.
 */
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>

static int print(enum libbpf_print_level level, const char *fmt, va_list args) {
  (void)level;
  return vfprintf(stderr, fmt, args);
}

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: %s OBJECT BTF\n", argv[0]);
    return 2;
  }
  libbpf_set_print(print);
  LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = argv[2]);
  struct bpf_object *obj = bpf_object__open_file(argv[1], &opts);
  if (obj == NULL || libbpf_get_error(obj)) {
    fprintf(stderr, "open failed\n");
    return 1;
  }
  int err = bpf_object__load(obj);
  struct bpf_program *prog;
  int loaded = 0;
  bpf_object__for_each_program(prog, obj) if (bpf_program__fd(prog) >= 0) loaded++;
  printf("loaded %d programs\n", loaded);
  bpf_object__close(obj);
  return err == 0 && loaded > 0 ? 0 : 1;
}
