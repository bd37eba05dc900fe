//! Who is running a step, and whether that process still exists.
//!
//! A `running` step records its host, pid and the pid's start time, so a step
//! whose process was killed shows up as `stale` instead of running forever;
//! the start time guards against the pid having been reused since.

use serde_json::{Map, Value};

/// The name of this machine, as the registry records it.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates
    // on success when the name fits, and we cap at the buffer length anyway.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "unknown".to_owned();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

/// The start time of a process in clock ticks since boot (Linux), used to
/// tell a live process from a later one that got the same pid.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces and parentheses, so count
    // fields from the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// Whether process `pid` exists on this machine (and, when `start_time` is
/// known, is the same process that recorded it).
pub fn process_alive(pid: u32, start_time: Option<u64>) -> bool {
    let Ok(pid_t) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid_t <= 0 {
        return false;
    }
    // SAFETY: signal 0 performs only the existence and permission check.
    let rc = unsafe { libc::kill(pid_t, 0) };
    let exists = rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    match (start_time, process_start_time(pid)) {
        (Some(recorded), Some(now)) => recorded == now,
        _ => true,
    }
}

/// False for a job run by shards (its record has `shards`): it has no
/// process of its own; each shard's lock says whether it runs.
pub fn has_own_process(meta: &Map<String, Value>) -> bool {
    !meta.contains_key("shards")
}

/// Why a `running` step is known to be dead, or `None` when it may be alive
/// (or runs on another host, where we cannot tell).
pub fn stale_reason(meta: &Map<String, Value>) -> Option<String> {
    if !has_own_process(meta) {
        return None;
    }
    let host = meta.get("host")?.as_str()?;
    let pid = u32::try_from(meta.get("pid")?.as_u64()?).ok()?;
    if host != hostname() {
        return None;
    }
    let start = meta.get("pid_start_time").and_then(Value::as_u64);
    if process_alive(pid, start) {
        None
    } else {
        Some(format!("process {pid} on {host} no longer exists"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive() {
        let pid = std::process::id();
        assert!(process_alive(pid, process_start_time(pid)));
        assert!(!process_alive(
            pid,
            Some(process_start_time(pid).unwrap_or(0) + 1)
        ));
    }

    #[test]
    fn dead_child_is_stale() {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let mut m = Map::new();
        m.insert("host".into(), hostname().into());
        m.insert("pid".into(), pid.into());
        assert!(stale_reason(&m).unwrap().contains(&pid.to_string()));
        m.insert("host".into(), "some-other-host".into());
        assert_eq!(stale_reason(&m), None);
    }
}
