"""The FastAPI stage alone: a POST that reads the same body and answers 202, nothing else."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.get("/livez")
async def livez() -> dict[str, str]:
    return {"status": "ok"}


@app.post("/v1/notifications", status_code=202)
async def noop(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"accepted": True}, status_code=202)
