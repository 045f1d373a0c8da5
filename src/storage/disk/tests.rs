use super::*;
use crate::storage::image::check_size;
use crate::storage::testfile::{pattern, TestFile};

#[test]
fn reads_return_the_files_bytes() {
    let f = TestFile::disk(8);
    let d = Disk::open(f.path(), MediaKind::Disk, DiskMode::Overlay).unwrap();
    assert_eq!(d.sectors(), 8);
    let mut buf = vec![0u8; 1024];
    d.read(3, &mut buf).unwrap();
    assert_eq!(buf, pattern(512, 8)[3 * 512..5 * 512]);
}

#[test]
fn writes_land_in_the_overlay_and_the_file_is_untouched() {
    let f = TestFile::disk(8);
    let before = std::fs::read(f.path()).unwrap();
    let mtime = std::fs::metadata(f.path()).unwrap().modified().unwrap();
    let mut d = Disk::open(f.path(), MediaKind::Disk, DiskMode::Overlay).unwrap();
    d.write(2, &[0xAB; 512]).unwrap();
    d.flush().unwrap();
    let mut buf = vec![0u8; 1536];
    d.read(1, &mut buf).unwrap();
    assert_eq!(&buf[..512], &before[512..1024]);
    assert_eq!(&buf[512..1024], &[0xAB; 512][..]);
    assert_eq!(&buf[1024..], &before[1536..2048]);
    assert_eq!(d.overlay().len(), 1);
    assert_eq!(std::fs::read(f.path()).unwrap(), before);
    assert_eq!(
        std::fs::metadata(f.path()).unwrap().modified().unwrap(),
        mtime
    );
}

#[test]
fn write_through_writes_the_file() {
    let f = TestFile::disk(4);
    let mut d = Disk::open(f.path(), MediaKind::Disk, DiskMode::WriteThrough).unwrap();
    d.write(1, &[0x5A; 512]).unwrap();
    d.flush().unwrap();
    assert!(d.overlay().is_empty());
    assert_eq!(std::fs::read(f.path()).unwrap()[512..1024], [0x5A; 512]);
}

#[test]
fn read_only_refuses_writes() {
    let f = TestFile::disk(4);
    let mut d = Disk::open(f.path(), MediaKind::Disk, DiskMode::ReadOnly).unwrap();
    assert!(matches!(
        d.write(0, &[0; 512]),
        Err(StorageError::ReadOnly { .. })
    ));
}

#[test]
fn out_of_range_and_partial_transfers_are_errors() {
    let f = TestFile::disk(4);
    let mut d = Disk::open(f.path(), MediaKind::Disk, DiskMode::Overlay).unwrap();
    let mut buf = vec![0u8; 1024];
    assert!(d.read(3, &mut buf).is_err());
    assert!(d.read(u64::MAX, &mut buf).is_err());
    assert!(d.read(0, &mut buf[..100]).is_err());
    assert!(d.write(4, &[0; 512]).is_err());
}

#[test]
fn the_overlay_survives_serialisation_and_takes_the_host_file_back() {
    let f = TestFile::disk(4);
    let mut d = Disk::open(f.path(), MediaKind::Disk, DiskMode::Overlay).unwrap();
    d.write(0, &[7; 512]).unwrap();
    let bytes = postcard::to_allocvec(&d).unwrap();
    let mut back: Disk = postcard::from_bytes(&bytes).unwrap();
    let mut buf = vec![0u8; 512];
    assert!(matches!(
        back.read(0, &mut buf),
        Err(StorageError::Detached { .. })
    ));
    back.keep_host_file(&d);
    back.read(0, &mut buf).unwrap();
    assert_eq!(buf, [7; 512]);
    assert_eq!(back.overlay(), d.overlay());
}

#[test]
fn bad_images_are_refused_with_the_file_named() {
    let empty = TestFile::new(&[]);
    let e = Disk::open(empty.path(), MediaKind::Disk, DiskMode::Overlay).unwrap_err();
    assert!(matches!(e, StorageError::Empty { .. }), "{e}");
    assert!(e.to_string().contains(&*empty.path().to_string_lossy()));

    let odd = TestFile::new(&[0; 700]);
    let e = Disk::open(odd.path(), MediaKind::Disk, DiskMode::Overlay).unwrap_err();
    assert!(matches!(e, StorageError::PartialSector { .. }), "{e}");

    let dir = std::env::temp_dir();
    let e = Disk::open(&dir, MediaKind::Disk, DiskMode::Overlay).unwrap_err();
    assert!(matches!(e, StorageError::Directory { .. }), "{e}");

    let missing = dir.join("moon86-no-such-image.img");
    let e = Disk::open(&missing, MediaKind::Disk, DiskMode::Overlay).unwrap_err();
    assert!(matches!(e, StorageError::Open { .. }), "{e}");

    let not_iso = TestFile::disk(80);
    let e = Disk::open(not_iso.path(), MediaKind::Cdrom, DiskMode::ReadOnly).unwrap_err();
    assert!(matches!(e, StorageError::NotIso { .. }), "{e}");

    let e = check_size(Path::new("big.img"), 1 << 60, MediaKind::Disk).unwrap_err();
    assert!(matches!(e, StorageError::TooLarge { .. }), "{e}");
    let e = check_size(Path::new("big.iso"), 1 << 44, MediaKind::Cdrom).unwrap_err();
    assert!(matches!(e, StorageError::TooLarge { .. }), "{e}");
    check_size(Path::new("ok.img"), 1 << 40, MediaKind::Disk).unwrap();
}

#[test]
fn a_cd_is_read_only_with_2048_byte_sectors() {
    let f = TestFile::cd(20);
    let mut d = Disk::open(f.path(), MediaKind::Cdrom, DiskMode::WriteThrough).unwrap();
    assert_eq!(d.sectors(), 20);
    assert!(d.read_only());
    let mut buf = vec![0u8; 2048];
    d.read(5, &mut buf).unwrap();
    assert_eq!(buf, pattern(2048, 20)[5 * 2048..6 * 2048]);
    assert!(d.write(5, &buf).is_err());
}

#[test]
fn write_image_gives_the_guests_view_and_commit_writes_the_overlay_once() {
    let f = TestFile::disk(8);
    let before = std::fs::read(f.path()).unwrap();
    let mut d = Disk::open(f.path(), MediaKind::Disk, DiskMode::Overlay).unwrap();
    d.write(5, &[0xCD; 512]).unwrap();
    let mut image = Vec::new();
    d.write_image(&mut image).unwrap();
    let mut want = before.clone();
    want[5 * 512..6 * 512].fill(0xCD);
    assert_eq!(image, want);
    assert_eq!(
        std::fs::read(f.path()).unwrap(),
        before,
        "untouched until commit"
    );

    assert_eq!(d.commit().unwrap(), 1);
    assert!(d.overlay().is_empty());
    assert_eq!(std::fs::read(f.path()).unwrap(), want);
    assert_eq!(d.commit().unwrap(), 0, "nothing left");
    let mut buf = vec![0u8; 512];
    d.read(5, &mut buf).unwrap();
    assert_eq!(buf, [0xCD; 512], "the guest sees the same disk");

    let mut ro = Disk::open(f.path(), MediaKind::Disk, DiskMode::ReadOnly).unwrap();
    assert!(ro.commit().unwrap_err().to_string().contains("read-only"));
}

#[test]
fn commit_refuses_an_image_whose_size_changed() {
    let f = TestFile::disk(8);
    let mut d = Disk::open(f.path(), MediaKind::Disk, DiskMode::Overlay).unwrap();
    d.write(0, &[1; 512]).unwrap();
    let mut grown = std::fs::read(f.path()).unwrap();
    grown.extend([0u8; 512]);
    std::fs::write(f.path(), &grown).unwrap();
    let e = d.commit().unwrap_err().to_string();
    assert!(e.contains("changed size"), "{e}");
    assert_eq!(std::fs::read(f.path()).unwrap(), grown);
    assert_eq!(d.overlay().len(), 1, "the overlay is kept");
}

#[test]
fn a_padded_disk_reads_zeros_past_the_file_and_keeps_writes_there() {
    let f = TestFile::disk(3);
    let mut d = Disk::open(f.path(), MediaKind::Disk, DiskMode::Overlay).unwrap();
    d.pad_to(6).unwrap();
    assert_eq!(d.sectors(), 6);
    let mut buf = vec![0xFFu8; 4 * 512];
    d.read(1, &mut buf).unwrap();
    assert_eq!(&buf[..1024], &pattern(512, 3)[512..]);
    assert!(buf[1024..].iter().all(|&b| b == 0));
    d.write(4, &[0x77; 512]).unwrap();
    let mut one = vec![0u8; 512];
    d.read(4, &mut one).unwrap();
    assert_eq!(one, vec![0x77; 512]);
    assert!(d.read(6, &mut one).is_err());
    assert_eq!(std::fs::read(f.path()).unwrap(), pattern(512, 3));
    let mut through = Disk::open(f.path(), MediaKind::Disk, DiskMode::WriteThrough).unwrap();
    let e = through.pad_to(6).unwrap_err().to_string();
    assert!(e.contains("for writing through"), "{e}");
}

#[test]
fn the_guests_transfers_are_logged_once_and_host_reads_are_not() {
    let f = TestFile::disk(8);
    let mut d = Disk::open(f.path(), MediaKind::Disk, DiskMode::Overlay).unwrap();
    let mut buf = vec![0u8; 1024];
    d.read(2, &mut buf).unwrap();
    d.write(4, &buf).unwrap();
    d.peek(0, &mut buf).unwrap();
    let log = d.take_accesses();
    assert_eq!(
        log,
        [
            DiskAccess {
                lba: 2,
                count: 2,
                write: false
            },
            DiskAccess {
                lba: 4,
                count: 2,
                write: true
            }
        ]
    );
    assert!(!d.has_accesses());
    let mut ro = Disk::open(f.path(), MediaKind::Disk, DiskMode::ReadOnly).unwrap();
    assert!(ro.write(0, &buf).is_err());
    assert!(
        ro.take_accesses().is_empty(),
        "a refused write is not a transfer"
    );
}
