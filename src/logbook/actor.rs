//! Who is acting, as the operating system tells it: the workstation (host name) and the user
//! logged in, recorded beside every batch and event.

/// Who did something, and from which workstation.
#[derive(Debug, Clone)]
pub struct Actor {
    pub workstation: String,
    pub os_user: String,
}

impl Actor {
    pub fn current() -> Actor {
        Actor {
            workstation: host_name(),
            os_user: os_user(),
        }
    }
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .or_else(|| std::env::var("COMPUTERNAME").ok())
        .unwrap_or_else(|| "unknown".into())
}

fn os_user() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|s| !s.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    #[test]
    fn always_names_someone_somewhere() {
        let a = super::Actor::current();
        assert!(!a.workstation.is_empty());
        assert!(!a.os_user.is_empty());
        assert!(!a.workstation.contains('\n'));
    }
}
