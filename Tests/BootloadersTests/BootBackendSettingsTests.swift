import Bootloaders
import Slots
import Testing

struct BootBackendSettingsTests {
    @Test func theDefaultBackendIsGPTPrio() {
        #expect(BootBackendSettings().kind == .gptprio)
        #expect(BootBackendKind(rawValue: "grub-env") == .grubEnv)
        #expect(BootBackendKind(rawValue: "systemd-boot") == .systemdBoot)
    }
}
