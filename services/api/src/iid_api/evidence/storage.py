"""The request's evidence storage: the backend the app's settings name, built once per
configuration."""

from typing import Annotated

from fastapi import Depends, Request

from iid_store.storage import Storage, storage_for


async def get_storage(request: Request) -> Storage:
    return storage_for(request.app.state.settings)


StorageDep = Annotated[Storage, Depends(get_storage)]
