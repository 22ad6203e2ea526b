"""The TensorLang language server: ``neurojit lsp`` (see ``server.py``).

``analysis`` reads a file lexically (values, types, uses, what is under a position);
``checker`` gets the compiler's diagnostics from the engine process, so MLIR is never
loaded into the server and a crash in it cannot take the server down; ``server`` speaks
LSP over stdio with pygls.
"""
