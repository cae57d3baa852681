-- Run by tests/test_editor_neovim.py inside `nvim --headless -u NONE`, with the buggy file open.
-- Starts the server with Neovim's built-in LSP client, waits for its diagnostics, applies the
-- MRG301 quick fix with Neovim's own workspace-edit code, waits for the diagnostics to follow,
-- and writes everything Neovim saw to $MODREG_NVIM_OUT as JSON.
local out = os.getenv("MODREG_NVIM_OUT")
local cmd = vim.fn.json_decode(os.getenv("MODREG_NVIM_CMD"))
vim.bo.filetype = "python"
local bufnr = vim.api.nvim_get_current_buf()
-- keep the diagnostics as the server sent them (Neovim 0.7's vim.diagnostic drops their ranges)
local raw = {}
local publish = vim.lsp.handlers["textDocument/publishDiagnostics"]
vim.lsp.handlers["textDocument/publishDiagnostics"] = function(err, params, ctx, config)
  raw = params.diagnostics
  return publish(err, params, ctx, config)
end
local id = vim.lsp.start_client({ cmd = cmd, root_dir = vim.fn.getcwd(), name = "modreg" })
vim.lsp.buf_attach_client(bufnr, id)

local function snapshot()
  local res = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    local l = (d.user_data or {}).lsp or {}
    table.insert(res, {
      lnum = d.lnum, col = d.col, end_lnum = d.end_lnum, end_col = d.end_col,
      severity = d.severity, source = d.source, message = d.message,
      code = l.code, href = (l.codeDescription or {}).href,
    })
  end
  table.sort(res, function(a, b) return a.lnum < b.lnum end)
  return res
end

local result = {}
result.got_diagnostics = vim.wait(20000, function() return #vim.diagnostic.get(bufnr) >= 2 end, 20)
result.first = snapshot()

-- the quick fix for MRG301, asked for and applied the way Neovim's code-action UI does
local target
for _, d in ipairs(raw) do
  if d.code == "MRG301" then target = d end
end
result.titles = {}
if target then
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = target.range,
    context = { diagnostics = { target } },
  }
  local responses = vim.lsp.buf_request_sync(bufnr, "textDocument/codeAction", params, 10000) or {}
  local client = vim.lsp.get_client_by_id(id)
  for _, resp in pairs(responses) do
    for _, action in ipairs(resp.result or {}) do
      table.insert(result.titles, action.title)
      if action.title:match("^Rename") then
        if not action.edit then
          local resolved = client.request_sync("codeAction/resolve", action, 10000, bufnr)
          action = resolved and resolved.result or action
        end
        if action.edit then
          vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
          result.applied = true
        end
      end
    end
  end
end
result.text = table.concat(vim.api.nvim_buf_get_lines(bufnr, 0, -1, false), "\n") .. "\n"
result.settled = vim.wait(20000, function() return #vim.diagnostic.get(bufnr) == 1 end, 20)
result.after = snapshot()
result.version = vim.version()

local f = io.open(out, "w")
f:write(vim.fn.json_encode(result))
f:close()
vim.lsp.stop_client(id)
vim.cmd("qa!")
