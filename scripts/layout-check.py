#!/usr/bin/env python3
"""Holds the server-side layout to what docs/ARCHITECTURE.md promises:
no file over 320 lines and no function over 60 in the server-side and shared
crates, and no import loops between the files of app/src/server (each `use`
of crate::server::… or super::… is an edge). Run by scripts/test.sh; prints
what breaks the rule and exits 1."""
import os, re, sys

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
SIZED = ["app/src/server", "server/src", "core/src", "client/src"]
MAX_FILE, MAX_FN = 320, 60
problems = []

def rust_files(top):
    for dp, _, names in os.walk(os.path.join(ROOT, top)):
        for n in sorted(names):
            if n.endswith(".rs"):
                yield os.path.join(dp, n)

for top in SIZED:
    for path in rust_files(top):
        lines = open(path).read().split("\n")
        rel = os.path.relpath(path, ROOT)
        if len(lines) > MAX_FILE:
            problems.append(f"{rel}: {len(lines)} lines (at most {MAX_FILE})")
        for i, line in enumerate(lines):
            m = re.match(r"^(\s*)(pub(\([a-z]+\))? )?(const )?(async )?fn (\w+)", line)
            if not m or line.rstrip().endswith(";"):
                continue
            indent = m.group(1)
            end = next((j for j in range(i, len(lines)) if lines[j] == indent + "}"), i)
            if end - i + 1 > MAX_FN:
                problems.append(f"{rel}:{i + 1}: fn {m.group(6)} is {end - i + 1} lines (at most {MAX_FN})")

base=os.path.join(ROOT, 'app/src/server')
files={}
for dp,dn,fn in os.walk(base):
    for f in fn:
        if f.endswith('.rs'):
            p=os.path.join(dp,f); rel=os.path.relpath(p,base)[:-3]
            mod=rel.replace('/mod','') if rel.endswith('/mod') else rel
            if mod=='mod': mod=''
            files[mod.replace('/','::')]=p
def resolve(path):
    parts=path.split('::')
    for n in range(len(parts),0,-1):
        m='::'.join(parts[:n])
        if m in files: return m
    return None
g={}
for mod,p in files.items():
    s=open(p).read()
    s=s.split('#[cfg(test)]')[0]
    deps=set()
    # expand use crate::server::{a::b, c} groups crudely: collect tokens
    for m in re.finditer(r'crate::server::\{([^;]*)\};',s,re.S):
        body=m.group(1)
        # flatten nested
        stack=[('',body)]
        def walk(prefix,text):
            depth=0;cur=''
            items=[]
            for ch in text:
                if ch=='{':depth+=1
                if ch=='}':depth-=1
                if ch==',' and depth==0: items.append(cur.strip());cur='';continue
                cur+=ch
            if cur.strip(): items.append(cur.strip())
            for it in items:
                mm=re.match(r'([\w:]+?)(::\{(.*)\})?$',it,re.S)
                if not mm: continue
                if mm.group(3) is not None: walk(prefix+mm.group(1)+'::',mm.group(3))
                else: deps.add(prefix+mm.group(1))
        walk('',body)
    for m in re.finditer(r'crate::server::([\w:]+)',s):
        deps.add(m.group(1))
    parent='::'.join(mod.split('::')[:-1]) if '::' in mod else ''
    for m in re.finditer(r'\bsuper::([\w:]+)',s):
        deps.add((parent+'::' if parent else '')+m.group(1))
    for m in re.finditer(r'\bsuper::\{([^;]*)\};',s,re.S):
        for it in re.findall(r'(\w+)',m.group(1)):
            deps.add((parent+'::' if parent else '')+it)
    r={resolve(d) for d in deps}-{None,mod}
    g[mod]=r
# find cycles
# longer cycles via DFS
color={};stack=[];found=[]
def dfs(u):
    color[u]=1;stack.append(u)
    for v in g.get(u,()):
        if v=='' : continue
        if color.get(v)==1: found.append(stack[stack.index(v):]+[v])
        elif not color.get(v): dfs(v)
    stack.pop();color[u]=2
for u in g:
    if u and not color.get(u): dfs(u)
for cycle in found:
    problems.append("import loop: " + " -> ".join(cycle))
for p in problems:
    print(p)
sys.exit(1 if problems else 0)
