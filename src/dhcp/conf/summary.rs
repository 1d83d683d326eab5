//! The `--check-config` summary an admin reads: subnets with their ranges and
//! free-address counts, hosts, classes, and the PXE boot settings
//! (`next-server`, `filename`) per scope and per class.

use super::model::{Config, Exec, ParamValue, ScopeId};
use super::values::Value;
use std::fmt::Write;

fn param_text(model: &Config, scope: ScopeId, name: &str) -> Option<String> {
    match model.param(scope, name)? {
        ParamValue::Word(w) => Some(format!("\"{w}\"")),
        ParamValue::Values(v) => v.first().map(|x| match x {
            Value::Ip(a) => a.to_string(),
            Value::Host(h) => h.clone(),
            other => format!("{other:?}"),
        }),
        ParamValue::Flag(b) => Some(b.to_string()),
        ParamValue::Expr(_) => Some("(expression)".into()),
    }
}

fn own_boot(model: &Config, scope: ScopeId) -> String {
    let Some(s) = model.scope(scope) else {
        return String::new();
    };
    let mut parts = Vec::new();
    for e in &s.stmts {
        if let Exec::Param { name, .. } = e {
            if name == "next-server" || name == "filename" {
                if let Some(v) = param_text(model, scope, name) {
                    let item = format!("{name} {v}");
                    if !parts.contains(&item) {
                        parts.push(item);
                    }
                }
            }
        }
    }
    parts.join(", ")
}

/// Renders the summary, one section per kind.
pub fn render(model: &Config) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "subnets: {}", model.subnets.len());
    for (i, s) in model.subnets.iter().enumerate() {
        let ranges = model.ranges_of_subnet(i);
        let total: u64 = ranges.iter().map(|r| r.len()).sum();
        let fixed = model
            .hosts
            .iter()
            .flat_map(|h| h.fixed_addresses.iter())
            .filter(|v| matches!(v, Value::Ip(a) if ranges.iter().any(|r| r.contains(*a))))
            .count() as u64;
        let _ = writeln!(
            out,
            "  {}/{} ({} range{}, {} free address{})",
            s.net,
            s.prefix_len(),
            ranges.len(),
            if ranges.len() == 1 { "" } else { "s" },
            total.saturating_sub(fixed),
            if total.saturating_sub(fixed) == 1 {
                ""
            } else {
                "es"
            }
        );
        for r in ranges {
            let _ = writeln!(
                out,
                "    range {} {}{}",
                r.low,
                r.high,
                if r.dynamic_bootp {
                    " (dynamic-bootp)"
                } else {
                    ""
                }
            );
        }
        let boot = [
            param_text(model, s.scope, "next-server").map(|v| format!("next-server {v}")),
            param_text(model, s.scope, "filename").map(|v| format!("filename {v}")),
        ];
        let boot: Vec<String> = boot.into_iter().flatten().collect();
        if !boot.is_empty() {
            let _ = writeln!(out, "    boot: {}", boot.join(", "));
        }
    }
    let _ = writeln!(out, "shared networks: {}", model.shared_networks.len());
    for s in &model.shared_networks {
        let _ = writeln!(
            out,
            "  {} ({} subnet{})",
            s.name,
            s.subnets.len(),
            if s.subnets.len() == 1 { "" } else { "s" }
        );
    }
    let with_hw = model.hosts.iter().filter(|h| h.hardware.is_some()).count();
    let with_fixed = model
        .hosts
        .iter()
        .filter(|h| !h.fixed_addresses.is_empty())
        .count();
    let _ = writeln!(
        out,
        "hosts: {} ({} by hardware address, {} with a fixed address)",
        model.hosts.len(),
        with_hw,
        with_fixed
    );
    for h in &model.hosts {
        let boot = own_boot(model, h.scope);
        if !boot.is_empty() {
            let _ = writeln!(out, "  host {}: {}", h.name, boot);
        }
    }
    let _ = writeln!(
        out,
        "classes: {} ({} subclasses)",
        model.classes.len(),
        model.subclasses.len()
    );
    for c in &model.classes {
        let boot = own_boot(model, c.scope);
        let _ = writeln!(
            out,
            "  class \"{}\"{}",
            c.name,
            if boot.is_empty() {
                String::new()
            } else {
                format!(": {boot}")
            }
        );
    }
    let global_boot = [
        param_text(model, Config::GLOBAL, "next-server").map(|v| format!("next-server {v}")),
        param_text(model, Config::GLOBAL, "filename").map(|v| format!("filename {v}")),
    ];
    let global_boot: Vec<String> = global_boot.into_iter().flatten().collect();
    let _ = writeln!(
        out,
        "PXE boot (global): {}",
        if global_boot.is_empty() {
            "none".to_string()
        } else {
            global_boot.join(", ")
        }
    );
    if !model.failover_peers.is_empty() {
        let _ = writeln!(out, "failover peers: {}", model.failover_peers.len());
    }
    if !model.keys.is_empty() || !model.zones.is_empty() {
        let _ = writeln!(
            out,
            "keys: {}, zones: {}",
            model.keys.len(),
            model.zones.len()
        );
    }
    out
}
