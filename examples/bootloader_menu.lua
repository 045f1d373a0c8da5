-- Boot a hard disk through SeaBIOS and a real bootloader, drive its menu
-- with the keyboard, and check what Linux was given:
--
--   python3 scripts/build-bootmedia.py --quiet     # prints syslinux_disk=...
--   python3 scripts/fetch-guests.py --quiet        # prints seabios=, vgabios=
--   moon86 run examples/bootloader_menu.lua DISK SEABIOS VGABIOS [SCREEN.png]
--
-- DISK is the SYSLINUX disk scripts/build-bootmedia.py builds (its menu has
-- two entries; the second adds moon86.entry=quiet to the kernel's command
-- line). The script waits for the menu on the VGA screen, picks the second
-- entry with Down and Enter, waits for the initramfs marker on COM1, asks
-- the shell for /proc/cmdline and saves the screen as a PNG (default
-- bootloader-menu.png).
local disk, bios, vgabios = arg[1], arg[2], arg[3]
local png = arg[4] or "bootloader-menu.png"
assert(disk and bios and vgabios, "usage: bootloader_menu.lua DISK SEABIOS VGABIOS [SCREEN.png]")

local vm = moon86.new{ ram = "256M", boot_order = "c" }
vm:load_bios(bios, vgabios)
vm:attach_drive(disk)             -- the primary master; guest writes stay in memory
vm:power_on()

-- SeaBIOS loads the MBR, which loads SYSLINUX, which shows its menu.
vm.screen:wait_text("moon86 boot menu", { plain = true, timeout = "10s" })
vm.screen:wait_text("Automatic boot in", { plain = true })
print("SYSLINUX's menu is up at instruction " .. vm.icount)

-- Any key stops the menu's countdown; Down selects the second entry.
vm.keyboard:press("down")
vm:run{ timeout = "100ms" }       -- let the menu redraw
local screen = table.concat(vm.screen:text(), "\n")
assert(screen:find("Debian Linux, quiet", 1, true), screen)
assert(not screen:find("Automatic boot", 1, true), "the countdown did not stop:\n" .. screen)
vm.screen:png(png)
print("the menu with the second entry selected: " .. png)
vm.keyboard:press("enter")

-- The kernel boots quietly; the initramfs prints its marker on COM1.
vm.serial:expect("MOON86-INIT-OK", { plain = true, timeout = "120s" })
vm.serial:expect("# ", { plain = true, timeout = "10s" })
vm.serial:write("cat /proc/cmdline\n")
local _, entry = vm.serial:expect("moon86%.entry=(%w+)%s", { timeout = "10s" })
assert(entry == "quiet", "the kernel got another entry's command line: " .. tostring(entry))
print(("Linux booted the menu's second entry (moon86.entry=%s) at instruction %d"):format(entry, vm.icount))
