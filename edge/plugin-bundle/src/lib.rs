//! # cognate-plugin-bundle
//!
//! Prepares trigger plugins for the edge at deploy time. Cloudflare Workers refuse to compile
//! Wasm at run time, so the Worker can only run modules that were bundled with it; and
//! JavaScript can neither interrupt a running Wasm function nor cap a module's memory below the
//! module's own maximum. So the limits the host's wasmtime applies at run time (fuel, memory
//! cap) are written into each module here, before it is bundled:
//!
//! - **CPU**: every function entry and every loop iteration subtracts the static size of its
//!   straight-line code (in instructions, nested loops counted on their own) from an injected
//!   global, and traps with `unreachable` when it goes negative. A plugin that loops forever
//!   fails after about `fuel` instructions. The global is exported as [`GAS_EXPORT`], so the
//!   runtime can tell a timeout from the plugin's own trap.
//! - **Memory**: the memory's maximum is capped, and every `memory.grow` goes through an
//!   injected function that sets the exported flag [`OOM_EXPORT`] and traps when the growth
//!   would pass the cap (as wasmtime's resource limiter does on the host).
//!
//! Nothing else changes: the exports, the data and the behaviour of a well-behaved plugin are
//! the same, and the module keeps its identity, the SHA-256 of the original binary, which is
//! what `sha256:<hex>` references and `RegisterPlugin` match.
//!
//! ```
//! let wat = r#"(module (memory (export "memory") 1)
//!   (func (export "alloc") (param i32) (result i32) (i32.const 1024))
//!   (func (export "handle") (param i32 i32) (result i64) (i64.const 2)))"#;
//! let prepared = cognate_plugin_bundle::prepare(wat.as_bytes(), &Default::default()).unwrap();
//! assert_eq!(prepared.sha256.len(), 64);
//! assert!(prepared.problem.is_none());
//! ```
//!
//! ## Security
//! Modules are validated before and after instrumentation; a module that imports anything but
//! `cognate.log`, imports a memory, or uses 64-bit or several memories is refused at build
//! time, so the Worker never holds one.

use anyhow::{Context as _, bail};
use wasm_encoder::reencode::{Reencode as _, RoundtripReencoder, utils};
use wasmparser::{Operator, Parser, Payload, TypeRef, ValType};

/// The exported global holding the CPU budget left (`i32`; negative: exhausted).
pub const GAS_EXPORT: &str = "__cognate_gas";
/// The exported global set to 1 when the plugin tried to grow its memory past the cap.
pub const OOM_EXPORT: &str = "__cognate_oom";
/// The one import a plugin may have (as on the host).
pub const LOG_IMPORT: (&str, &str) = ("cognate", "log");

const PAGE: u64 = 64 * 1024;

/// What is written into each module.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// CPU budget per call, in instructions (approximately; the host's default fuel).
    pub fuel: u32,
    /// Memory cap per instance, in bytes (rounded down to whole 64 KiB pages).
    pub memory_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            fuel: 50_000_000,
            memory_bytes: 64 * 1024 * 1024,
        }
    }
}

/// One module, ready to bundle.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// SHA-256 (lower-case hex) of the original binary: the plugin's identity.
    pub sha256: String,
    /// SHA-256 of the source text, when the input was WAT (RegisterPlugin may send the text).
    pub source_sha256: Option<String>,
    /// Size of the original binary.
    pub size: usize,
    /// The instrumented binary.
    pub instrumented: Vec<u8>,
    /// Why every call will fail, if it will (the contract's exports are missing or mistyped):
    /// the host registers such modules too, and their calls fail with the same error.
    pub problem: Option<String>,
}

/// Compiles (if WAT), validates, checks and instruments one module.
pub fn prepare(source: &[u8], limits: &Limits) -> anyhow::Result<Prepared> {
    let (binary, source_sha256) = if source.starts_with(b"\0asm") {
        (source.to_vec(), None)
    } else {
        let binary = wat::parse_bytes(source)
            .map_err(|e| anyhow::anyhow!("neither a Wasm binary nor valid WAT: {e}"))?
            .into_owned();
        (binary, Some(cognate_core::codec::sha256_hex_of(source)))
    };
    wasmparser::Validator::new()
        .validate_all(&binary)
        .map_err(|e| anyhow::anyhow!("not a valid Wasm module: {e}"))?;
    let shape = Shape::read(&binary)?;
    let problem = shape.contract_problem();
    let instrumented = instrument(&binary, &shape, limits)?;
    wasmparser::Validator::new()
        .validate_all(&instrumented)
        .map_err(|e| anyhow::anyhow!("instrumentation produced an invalid module: {e}"))?;
    Ok(Prepared {
        sha256: cognate_core::codec::sha256_hex_of(&binary),
        source_sha256,
        size: binary.len(),
        instrumented,
        problem,
    })
}

/// What the rewrite needs to know about a module before emitting it.
#[derive(Default)]
struct Shape {
    /// Number of types (every rec group member).
    types: u32,
    /// The parameter and result types of every type index that is a function type.
    func_types: Vec<Option<(Vec<ValType>, Vec<ValType>)>>,
    /// Type index of every function (imported first).
    functions: Vec<u32>,
    imported_functions: u32,
    imported_globals: u32,
    defined_globals: u32,
    memories: u32,
    /// (name, kind, index)
    exports: Vec<(String, wasmparser::ExternalKind, u32)>,
}

impl Shape {
    fn read(binary: &[u8]) -> anyhow::Result<Self> {
        let mut shape = Self::default();
        for payload in Parser::new(0).parse_all(binary) {
            match payload? {
                Payload::TypeSection(reader) => {
                    for group in reader {
                        for sub in group?.into_types() {
                            shape.types += 1;
                            shape.func_types.push(match &sub.composite_type.inner {
                                wasmparser::CompositeInnerType::Func(f) => {
                                    Some((f.params().to_vec(), f.results().to_vec()))
                                }
                                _ => None,
                            });
                        }
                    }
                }
                Payload::ImportSection(reader) => {
                    for import in reader.into_imports() {
                        let import = import?;
                        if (import.module, import.name) != LOG_IMPORT {
                            bail!(
                                "the module imports {}.{}; plugins may import only cognate.log",
                                import.module,
                                import.name
                            );
                        }
                        match import.ty {
                            TypeRef::Func(ty) | TypeRef::FuncExact(ty) => {
                                shape.functions.push(ty);
                                shape.imported_functions += 1;
                            }
                            TypeRef::Global(_) => shape.imported_globals += 1,
                            _ => bail!("cognate.log must be imported as a function"),
                        }
                    }
                }
                Payload::FunctionSection(reader) => {
                    for ty in reader {
                        shape.functions.push(ty?);
                    }
                }
                Payload::MemorySection(reader) => {
                    for memory in reader {
                        let memory = memory?;
                        if memory.memory64 || memory.shared {
                            bail!("plugins may not use 64-bit or shared memories");
                        }
                        shape.memories += 1;
                    }
                }
                Payload::GlobalSection(reader) => shape.defined_globals = reader.count(),
                Payload::ExportSection(reader) => {
                    for export in reader {
                        let export = export?;
                        if export.name == GAS_EXPORT || export.name == OOM_EXPORT {
                            bail!("the export name {} is reserved", export.name);
                        }
                        shape
                            .exports
                            .push((export.name.to_owned(), export.kind, export.index));
                    }
                }
                _ => {}
            }
        }
        if shape.memories > 1 {
            bail!("plugins may have one memory");
        }
        Ok(shape)
    }

    /// Why the module cannot be called, in the host's words (host/src/plugins.rs).
    fn contract_problem(&self) -> Option<String> {
        let export = |name: &str| self.exports.iter().find(|(n, _, _)| n == name);
        match export("memory") {
            Some((_, wasmparser::ExternalKind::Memory, _)) => {}
            _ => return Some("it does not export `memory`".into()),
        }
        let func = |name: &str, params: &[ValType], results: &[ValType]| -> Option<String> {
            let Some((_, wasmparser::ExternalKind::Func, index)) = export(name) else {
                return Some(format!("it does not export the function `{name}`"));
            };
            let ty = self
                .functions
                .get(*index as usize)
                .and_then(|t| self.func_types.get(*t as usize))
                .and_then(Option::as_ref);
            let fits = ty.is_some_and(|(p, r)| p == params && r == results);
            (!fits).then(|| {
                let names = |types: &[ValType]| {
                    types
                        .iter()
                        .map(|t| t.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                format!(
                    "`{name}` must have type ({}) -> ({})",
                    names(params),
                    names(results)
                )
            })
        };
        func("alloc", &[ValType::I32], &[ValType::I32])
            .or_else(|| func("handle", &[ValType::I32, ValType::I32], &[ValType::I64]))
    }
}

/// Section ids in the order a module holds them (custom sections aside).
fn order(id: u8) -> u8 {
    match id {
        1 => 1,   // type
        2 => 2,   // import
        3 => 3,   // function
        4 => 4,   // table
        5 => 5,   // memory
        13 => 6,  // tag
        6 => 7,   // global
        7 => 8,   // export
        8 => 9,   // start
        9 => 10,  // element
        12 => 11, // data count
        10 => 12, // code
        11 => 13, // data
        _ => 0,
    }
}

struct Injected {
    gas_global: u32,
    oom_global: u32,
    grow_type: u32,
    grow_function: u32,
    cap_pages: u32,
    fuel: u32,
    /// Whether the module has a memory (without one, nothing can grow).
    has_memory: bool,
}

fn instrument(binary: &[u8], shape: &Shape, limits: &Limits) -> anyhow::Result<Vec<u8>> {
    let cap_pages = u32::try_from((limits.memory_bytes / PAGE).clamp(1, 65_536))
        .context("memory cap out of range")?;
    let fuel = limits.fuel.min(i32::MAX as u32);
    let injected = Injected {
        gas_global: shape.imported_globals + shape.defined_globals,
        oom_global: shape.imported_globals + shape.defined_globals + 1,
        grow_type: shape.types,
        grow_function: u32::try_from(shape.functions.len()).context("too many functions")?,
        cap_pages,
        fuel,
        has_memory: shape.memories > 0,
    };
    let mut re = RoundtripReencoder;
    let mut module = wasm_encoder::Module::new();
    // Which of the sections we add to were present (the others are synthesised in place).
    let mut done_types = false;
    let mut done_functions = false;
    let mut done_globals = false;
    let mut done_exports = false;
    let mut done_code = false;

    // Emits the synthesised sections that belong before a section of order `next`.
    let fill = |module: &mut wasm_encoder::Module,
                next: u8,
                done_types: &mut bool,
                done_functions: &mut bool,
                done_globals: &mut bool,
                done_exports: &mut bool,
                done_code: &mut bool| {
        if next > order(1) && !*done_types {
            let mut types = wasm_encoder::TypeSection::new();
            types
                .ty()
                .function([wasm_encoder::ValType::I32], [wasm_encoder::ValType::I32]);
            module.section(&types);
            *done_types = true;
        }
        if next > order(3) && !*done_functions {
            let mut functions = wasm_encoder::FunctionSection::new();
            functions.function(injected.grow_type);
            module.section(&functions);
            *done_functions = true;
        }
        if next > order(6) && !*done_globals {
            let mut globals = wasm_encoder::GlobalSection::new();
            add_globals(&mut globals, &injected);
            module.section(&globals);
            *done_globals = true;
        }
        if next > order(7) && !*done_exports {
            let mut exports = wasm_encoder::ExportSection::new();
            add_exports(&mut exports, &injected);
            module.section(&exports);
            *done_exports = true;
        }
        if next > order(10) && !*done_code {
            let mut code = wasm_encoder::CodeSection::new();
            code.function(&grow_function(&injected));
            module.section(&code);
            *done_code = true;
        }
    };

    for payload in Parser::new(0).parse_all(binary) {
        let payload = payload?;
        let Some((id, range)) = payload.as_section() else {
            if let Payload::End(_) = payload {
                fill(
                    &mut module,
                    u8::MAX,
                    &mut done_types,
                    &mut done_functions,
                    &mut done_globals,
                    &mut done_exports,
                    &mut done_code,
                );
            }
            continue;
        };
        let start = usize::try_from(range.start).context("section out of range")?;
        let end = usize::try_from(range.end).context("section out of range")?;
        let raw = binary.get(start..end).context("section out of range")?;
        if order(id) != 0 {
            fill(
                &mut module,
                order(id),
                &mut done_types,
                &mut done_functions,
                &mut done_globals,
                &mut done_exports,
                &mut done_code,
            );
        }
        match payload {
            Payload::TypeSection(reader) => {
                let mut types = wasm_encoder::TypeSection::new();
                utils::parse_type_section(&mut re, &mut types, reader)?;
                types
                    .ty()
                    .function([wasm_encoder::ValType::I32], [wasm_encoder::ValType::I32]);
                module.section(&types);
                done_types = true;
            }
            Payload::FunctionSection(reader) => {
                let mut functions = wasm_encoder::FunctionSection::new();
                utils::parse_function_section(&mut re, &mut functions, reader)?;
                functions.function(injected.grow_type);
                module.section(&functions);
                done_functions = true;
            }
            Payload::MemorySection(reader) => {
                let mut memories = wasm_encoder::MemorySection::new();
                for memory in reader {
                    let mut memory = re.memory_type(memory?)?;
                    if memory.minimum > u64::from(cap_pages) {
                        bail!(
                            "the module starts with {} pages of memory, over the cap of {cap_pages}",
                            memory.minimum
                        );
                    }
                    memory.maximum = Some(
                        memory
                            .maximum
                            .map_or(u64::from(cap_pages), |m| m.min(u64::from(cap_pages))),
                    );
                    memories.memory(memory);
                }
                module.section(&memories);
            }
            Payload::GlobalSection(reader) => {
                let mut globals = wasm_encoder::GlobalSection::new();
                utils::parse_global_section(&mut re, &mut globals, reader)?;
                add_globals(&mut globals, &injected);
                module.section(&globals);
                done_globals = true;
            }
            Payload::ExportSection(reader) => {
                let mut exports = wasm_encoder::ExportSection::new();
                utils::parse_export_section(&mut re, &mut exports, reader)?;
                add_exports(&mut exports, &injected);
                module.section(&exports);
                done_exports = true;
            }
            Payload::CodeSectionStart { .. } => {
                // The bodies follow as CodeSectionEntry payloads; read them from the raw section.
                let reader =
                    wasmparser::CodeSectionReader::new(wasmparser::BinaryReader::new(raw, 0))?;
                let mut code = wasm_encoder::CodeSection::new();
                for body in reader {
                    code.function(&meter(&body?, &injected)?);
                }
                code.function(&grow_function(&injected));
                module.section(&code);
                done_code = true;
            }
            _ => {
                module.section(&wasm_encoder::RawSection { id, data: raw });
            }
        }
    }
    Ok(module.finish())
}

fn add_globals(globals: &mut wasm_encoder::GlobalSection, injected: &Injected) {
    let mutable_i32 = wasm_encoder::GlobalType {
        val_type: wasm_encoder::ValType::I32,
        mutable: true,
        shared: false,
    };
    globals.global(
        mutable_i32,
        &wasm_encoder::ConstExpr::i32_const(i32::try_from(injected.fuel).unwrap_or(i32::MAX)),
    );
    globals.global(mutable_i32, &wasm_encoder::ConstExpr::i32_const(0));
}

fn add_exports(exports: &mut wasm_encoder::ExportSection, injected: &Injected) {
    exports.export(
        GAS_EXPORT,
        wasm_encoder::ExportKind::Global,
        injected.gas_global,
    );
    exports.export(
        OOM_EXPORT,
        wasm_encoder::ExportKind::Global,
        injected.oom_global,
    );
}

/// `grow(delta) -> old pages | -1`: `memory.grow`, but past the cap it sets the OOM flag and
/// traps, as the host's resource limiter does.
fn grow_function(injected: &Injected) -> wasm_encoder::Function {
    use wasm_encoder::Instruction as I;
    let mut f = wasm_encoder::Function::new([]);
    if !injected.has_memory {
        // Never called: a module without a memory has no memory.grow.
        f.instruction(&I::Unreachable);
        f.instruction(&I::End);
        return f;
    }
    // if delta > cap - size: oom = 1; unreachable
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::I32Const(
        i32::try_from(injected.cap_pages).unwrap_or(i32::MAX),
    ));
    f.instruction(&I::MemorySize(0));
    f.instruction(&I::I32Sub);
    f.instruction(&I::I32GtU);
    f.instruction(&I::If(wasm_encoder::BlockType::Empty));
    f.instruction(&I::I32Const(1));
    f.instruction(&I::GlobalSet(injected.oom_global));
    f.instruction(&I::Unreachable);
    f.instruction(&I::End);
    f.instruction(&I::LocalGet(0));
    f.instruction(&I::MemoryGrow(0));
    f.instruction(&I::End);
    f
}

/// Emits the charge of `cost` against the gas global (stack-neutral, valid anywhere).
fn charge(f: &mut wasm_encoder::Function, cost: u32, gas: u32) {
    use wasm_encoder::Instruction as I;
    f.instruction(&I::GlobalGet(gas));
    f.instruction(&I::I32Const(i32::try_from(cost.max(1)).unwrap_or(i32::MAX)));
    f.instruction(&I::I32Sub);
    f.instruction(&I::GlobalSet(gas));
    f.instruction(&I::GlobalGet(gas));
    f.instruction(&I::I32Const(0));
    f.instruction(&I::I32LtS);
    f.instruction(&I::If(wasm_encoder::BlockType::Empty));
    f.instruction(&I::Unreachable);
    f.instruction(&I::End);
}

/// A function body with metering: the entry charges the function's own straight-line size,
/// each loop header charges its body's (nested loops charge for themselves), and
/// `memory.grow` goes through the capped grow function.
fn meter(
    body: &wasmparser::FunctionBody<'_>,
    injected: &Injected,
) -> anyhow::Result<wasm_encoder::Function> {
    let mut re = RoundtripReencoder;
    let mut operators = Vec::new();
    let mut reader = body.get_operators_reader()?;
    while !reader.eof() {
        operators.push(reader.read()?);
    }
    // Region costs: region 0 is the function, then one per loop in order of appearance.
    let mut costs: Vec<u32> = vec![0];
    // Control stack: Some(region) for a loop, None for other blocks.
    let mut control: Vec<Option<usize>> = Vec::new();
    let mut current = 0usize;
    for op in &operators {
        if let Some(cost) = costs.get_mut(current) {
            *cost = cost.saturating_add(1);
        }
        match op {
            Operator::Loop { .. } => {
                control.push(Some(current));
                costs.push(0);
                current = costs.len() - 1;
            }
            Operator::Block { .. }
            | Operator::If { .. }
            | Operator::TryTable { .. }
            | Operator::Try { .. } => control.push(None),
            Operator::End => {
                if let Some(Some(outer)) = control.pop() {
                    current = outer;
                }
            }
            _ => {}
        }
    }
    let mut f = utils::new_function_with_parsed_locals(&mut re, body)?;
    let mut region = 0usize;
    charge(
        &mut f,
        costs.first().copied().unwrap_or(1),
        injected.gas_global,
    );
    for op in operators {
        match op {
            Operator::MemoryGrow { mem: 0 } => {
                f.instruction(&wasm_encoder::Instruction::Call(injected.grow_function));
            }
            Operator::Loop { .. } => {
                f.instruction(&re.instruction(op)?);
                region += 1;
                charge(
                    &mut f,
                    costs.get(region).copied().unwrap_or(1),
                    injected.gas_global,
                );
            }
            other => {
                f.instruction(&re.instruction(other)?);
            }
        }
    }
    Ok(f)
}

/// Escapes a string for a JavaScript module (JSON is valid JavaScript).
pub fn js_string(s: &str) -> String {
    serde_json::Value::String(s.to_owned()).to_string()
}

#[cfg(test)]
mod tests;
