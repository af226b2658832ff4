/* Startup for the emulated Cortex-M boards: vector table, reset and fault handlers.
 *
 * Reset: enable the FPU when the firmware is built for one, copy .data, zero .bss, open the
 * semihosting stdio (newlib rdimon), run constructors, then exit(main()) -- rdimon's exit
 * reports main's return value to QEMU, which exits with it.
 * Any fault or unexpected interrupt prints a line and exits via semihosting SYS_EXIT with
 * reason RunTimeErrorUnknown, which QEMU turns into exit code 1.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern uint32_t __data_load__, __data_start__, __data_end__;
extern uint32_t __bss_start__, __bss_end__, __stack_top__;

extern int main(void);
extern void initialise_monitor_handles(void);
extern void __libc_init_array(void);

void Reset_Handler(void);
void HardFault_Handler(void);
void Default_Handler(void);

/* __libc_init_array calls these; crti/crtn are not linked (-nostartfiles). */
void _init(void) {}
void _fini(void) {}

/* crtbegin.o normally defines this; C++ globals with destructors register with
   __cxa_atexit(..., &__dso_handle). One image, so any unique address will do. */
void *__dso_handle = &__dso_handle;

static void semihost_write0(const char *text) {
  register uintptr_t op __asm__("r0") = 0x04; /* SYS_WRITE0 */
  register uintptr_t arg __asm__("r1") = (uintptr_t)text;
  __asm__ volatile("bkpt 0xab" : "+r"(op) : "r"(arg) : "memory");
}

static void semihost_write_hex(uint32_t value) {
  char text[11] = "0x";
  for (int i = 0; i < 8; ++i) {
    uint32_t nibble = (value >> (28 - 4 * i)) & 0xFu;
    text[2 + i] = (char)(nibble < 10 ? '0' + nibble : 'a' + nibble - 10);
  }
  text[10] = '\0';
  semihost_write0(text);
}

static void __attribute__((noreturn)) semihost_exit_error(void) {
  register uintptr_t op __asm__("r0") = 0x18;      /* SYS_EXIT */
  register uintptr_t arg __asm__("r1") = 0x20023;  /* ADP_Stopped_RunTimeErrorUnknown */
  __asm__ volatile("bkpt 0xab" : : "r"(op), "r"(arg) : "memory");
  for (;;) {
  }
}

static void report_fault(const char *what) {
  semihost_write0("\n*** ");
  semihost_write0(what);
#if __ARM_ARCH >= 7
  semihost_write0(" CFSR=");
  semihost_write_hex(*(volatile uint32_t *)0xE000ED28u);
  semihost_write0(" HFSR=");
  semihost_write_hex(*(volatile uint32_t *)0xE000ED2Cu);
#endif
  semihost_write0("\n");
  semihost_exit_error();
}

void HardFault_Handler(void) { report_fault("HardFault"); }
void Default_Handler(void) { report_fault("Unexpected exception"); }

void Reset_Handler(void) {
#if defined(__ARM_FP)
  *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20; /* CPACR: full access to CP10, CP11 */
  __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif
  if (&__data_load__ != &__data_start__) {
    memcpy(&__data_start__, &__data_load__,
           (size_t)((char *)&__data_end__ - (char *)&__data_start__));
  }
  memset(&__bss_start__, 0, (size_t)((char *)&__bss_end__ - (char *)&__bss_start__));
  initialise_monitor_handles();
  __libc_init_array();
  exit(main());
}

typedef void (*vector_t)(void);

/* Cortex-M system exceptions; external interrupts are never enabled by the runtime. */
__attribute__((section(".isr_vector"), used)) const vector_t g_vector_table[16] = {
    (vector_t)&__stack_top__,
    Reset_Handler,
    Default_Handler,   /* NMI */
    HardFault_Handler,
    Default_Handler,   /* MemManage */
    Default_Handler,   /* BusFault */
    Default_Handler,   /* UsageFault */
    Default_Handler,   /* SecureFault (ARMv8-M) */
    0, 0, 0,
    Default_Handler,   /* SVCall */
    Default_Handler,   /* DebugMonitor */
    0,
    Default_Handler,   /* PendSV */
    Default_Handler,   /* SysTick */
};
