export * from './ocr-engine.js';
export { TesseractOcrEngine, type TesseractOcrEngineOptions } from './tesseract.ocr-engine.js';
export * from './summarise-ocr.js';
export * from './ocr-job.handler.js';
