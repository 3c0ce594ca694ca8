from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter

from iid_api.kit.pagination import PageDep
from iid_api.kit.principal import PublicPrincipalDep
from iid_api.vocabularies import service
from iid_api.vocabularies.schemas import Vocabulary, VocabularyPage

router = APIRouter(prefix="/v1/vocabularies", tags=["vocabularies"])

if TYPE_CHECKING:  # a Literal built from a tuple is beyond a type checker
    VocabularyName = str
else:  # the names, as an enum in the schema
    VocabularyName = Literal[service.NAMES]


@router.get("", response_model=VocabularyPage)
async def list_vocabularies(page: PageDep, _: PublicPrincipalDep) -> Any:
    """The closed vocabularies: each names the fields that take its codes. Public."""
    everything = service.summaries()
    chosen = everything[page.offset : page.offset + page.limit]
    return VocabularyPage.build(chosen, len(everything), page)


@router.get("/{name}", response_model=Vocabulary)
async def get_vocabulary(name: VocabularyName, _: PublicPrincipalDep) -> Any:
    """Every code of one vocabulary with its label (urusan: also its group). Public; the
    codes are what requests send and answers give."""
    return service.vocabulary(name)
